"""Emulator configuration: every UNCERTAIN protocol choice is a field here (PROTOCOL section 11)."""

from dataclasses import dataclass, field
from typing import ClassVar

from .checks import ConfigSection
from .market.config import MarketConfig
from .notices.config import NoticeConfig
from .pushes.config import PusherConfig


@dataclass
class EmulatorConfig(ConfigSection):
    """Defaults follow PROTOCOL section 11; `set_config` changes them at run time."""

    seed: int = 0
    token_ttl_s: int = 7200
    # 40014 by default; 42001 is the documented "access_token超时" (PROTOCOL 2.2).
    expired_token_errcode: int = 40014
    # An agent_id of another corp: 40056 by default (70004 configurable).
    foreign_agent_errcode: int = 40056
    # Signature form of get_corp_token / get_auth_info with an unknown or superseded ticket.
    stale_ticket_errcode: int = 40085
    # Chat APIs with a suite-issued corp token (PROTOCOL 5: ISV apps are not allowed).
    isv_chat_errcode: int = 60011
    # ISV get_corp_token returns a new token each call; older ones stay valid until expiry.
    keep_old_corp_tokens: bool = True
    signature_window_s: int = 60
    # A suite's corp token while the corp has stopped or removed the app: every call (sends
    # included) answers 50003 "应用已停用". PROTOCOL only names the code; None lets such
    # tokens keep working.
    stopped_app_errcode: int | None = 50003
    # Test (unpublished) suites may use any ticket string (PROTOCOL 6.2); off by default.
    accept_any_ticket: bool = False
    # department/list without fetch_child: False follows 007gzs-sdk (PROTOCOL 4.1 UNCERTAIN).
    fetch_child_default: bool = False
    # department/list_parent_depts: nested lists per membership (recommended) or one flat list.
    parent_depts_nested: bool = True
    # Chat members (but the sender) have read a chat message this long after it was sent;
    # None means only when the control API marks it read.
    chat_read_after_s: int | None = 60
    # Tenant-user SSO codes (PROTOCOL-ISV 1.1): valid 5 minutes, single use.
    sso_code_ttl_s: int = 300
    # A valid code with another corp's token: UNCERTAIN in PROTOCOL-ISV 1.2; 40078 recommended.
    sso_foreign_corp_errcode: int = 40078
    # Legacy user/getuserinfo sys_level: a Number in the doc (default), a String in the Java SDK.
    sso_legacy_sys_level_str: bool = False
    # Admin-console SSO (PROTOCOL-ISV 1.3): the sso token's lifetime is not stated (7200 s like
    # other tokens); codes are single use, "about 5 min".
    sso_token_ttl_s: int = 7200
    sso_admin_code_ttl_s: int = 300
    # JSAPI tickets (PROTOCOL-ISV 2.1): each call extends the same ticket by the TTL until its
    # hard death max_age after it was made; legacy (2016 docs): each call makes a new ticket
    # and the old one dies at once.
    jsapi_ticket_ttl_s: int = 7200
    jsapi_ticket_max_age_s: int = 86_400
    jsapi_ticket_legacy: bool = False
    rate_limits_enabled: bool = True
    app_api_qps: int = 20
    global_api_qps: int = 1000
    # Work-notice and pusher settings belong to their engines (notices/config.py,
    # pushes/config.py); kept here so one set_config / --fixture can reach them.
    # The dicts hold only the keys changed from the section's defaults; checked by the
    # section's own class, so a typo is a 400, not a silent no-op.
    notices: dict = field(default_factory=dict)
    pusher: dict = field(default_factory=dict)
    market: dict = field(default_factory=dict)  # market/config.py
    sections: ClassVar = {"notices": NoticeConfig, "pusher": PusherConfig,
                          "market": MarketConfig}


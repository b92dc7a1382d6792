"""The event dataclasses that parse_callback returns (every kind is listed in dingtalk.events)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Event:
    """Fields every event has; `raw` is the decrypted payload (HTTP) or the row (SyncHTTP)."""

    kind: str
    suite_key: str | None = None
    suite_id: str | None = None
    corp_id: str | None = None
    timestamp_ms: int | None = None
    dedupe_key: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class UrlCheckEvent(Event):
    """DingTalk checks the callback URL; legacy suites answer with `random` encrypted."""

    random: str | None = None
    test_suite_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class SuiteTicketEvent(Event):
    """A new suite ticket; it replaces the previous one."""

    kind: str = "suite_ticket"
    ticket: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class TmpAuthCodeEvent(Event):
    """A corp authorised the suite (legacy flow): trade the code for a permanent code."""

    kind: str = "tmp_auth_code"
    auth_code: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class AuthChangeEvent(Event):
    """The corp changed the suite's authorisation (legacy flow); re-read auth info."""

    kind: str = "change_auth"


@dataclass(frozen=True, kw_only=True)
class SuiteRelieveEvent(Event):
    """The corp removed the suite (legacy flow); its permanent code is dead."""

    kind: str = "suite_relieve"


@dataclass(frozen=True, kw_only=True)
class LicenseCodeEvent(Event):
    """DingTalk asks whether a license code is valid."""

    kind: str = "check_suite_license_code"
    license_code: str = ""


@dataclass(frozen=True, kw_only=True)
class OrgSuiteAuthEvent(Event):
    """SyncHTTP biz_type 4; `auth_info` is the whole biz_data (auth_corp_info, auth_info,
    auth_user_info, auth_scope, ...), the shape of a get_auth_info answer."""

    action: str = "auth"  # 'auth' | 'change' | 'relieve'
    auth_info: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class AppStateEvent(Event):
    """The app was stopped, restored, removed or its scope changed in a corp."""

    action: str = ""  # 'stop' | 'restore' | 'remove' | 'scope_update'
    agent_id: int | None = None
    app_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class CorpUpdateEvent(Event):
    """The corp's own data changed, or the corp was dissolved."""

    action: str = ""  # 'update' | 'remove'
    data: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class MarketOrderEvent(Event):
    """An app-market order (purchase, renewal, upgrade)."""

    kind: str = "market_order"
    order_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class MarketServiceEvent(Event):
    """SyncHTTP biz_type 37: an order's service opened (a renew-change took effect, openType 3)
    or closed (refunded, closeType 3); `data` is the whole biz_data."""

    kind: str = "market_service"
    action: str = ""  # 'open' | 'close'
    order_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class MarketRefundEvent(Event):
    """SyncHTTP biz_type 212: an order was refunded (orderId, refundFee); the row's biz_id
    means nothing, the order id comes from the data."""

    kind: str = "market_refund"
    order_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class MarketTryoutEvent(Event):
    """SyncHTTP biz_type 63: someone opened the app (tryoutType personal_tryout or
    enterprise_tryout, fromDate/endDate as text); no order id."""

    kind: str = "market_tryout"
    data: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class ContactEvent(Event):
    """A user, department or role changed; `ids` are the userids / dept ids / role ids."""

    object_type: str = ""  # 'user' | 'dept' | 'role'
    action: str = ""  # e.g. 'add', 'modify', 'leave', 'create', 'remove', 'admin_add'
    ids: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(Event):
    """Anything not understood; kept so nothing pushed is lost."""

    kind: str = "unknown"
    event_type: str | None = None
    biz_type: int | None = None
    reason: str = ""

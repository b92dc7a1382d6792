"""Tunable limits and pacing of the emulator's work-notification engine (PROTOCOL 3, 10)."""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import ConfigSection

DAY_CALENDAR = "calendar"
DAY_ROLLING = "rolling"
MEDIA_ID_ERRCODE = 40007


@dataclass
class NoticeConfig(ConfigSection):
    """Every number DingTalk documents for work notifications, overridable per emulator."""

    # PROTOCOL 3.1: the doc table says 100 userids / 20 dept ids per call (SDKs allow more).
    max_userids: int = 100
    max_dept_ids: int = 20
    # PROTOCOL 3.6: sendbytemplate documents 5000 userids / 500 dept ids.
    max_template_userids: int = 5000
    max_template_dept_ids: int = 500
    max_recipients_internal: int = 5000  # 41029
    max_recipients_isv: int = 1000  # 41029
    daily_cap_internal: int = 500  # 143105
    daily_cap_isv: int = 100  # 143205; one DingTalk table says 50
    per_minute_app_corp: int = 5000  # 143103 / 143203
    per_minute_suite: int = 5000  # 143204, one ISV suite across all its corps
    # 143104: every internal app of one corp together. DingTalk documents the code, not the
    # number; 5000 is the one per-minute figure it does publish. 0 turns the rule off.
    per_minute_corp: int = 5000
    to_all_user_per_day: int = 3  # 41045
    msg_max_bytes: int = 2048
    status_bar_max_userids: int = 5
    # "calendar": the emulated calendar day in Asia/Shanghai; "rolling": the last 24 h.
    day_mode: str = DAY_CALENDAR
    # Delivery pacing in emulated time: nothing before start_delay_s, then `rate` recipients/s.
    delivery_start_delay_s: float = 0.0
    delivery_rate_per_s: float = 1000.0
    # Automatic reading: this fraction of delivered recipients reads read_after_s after delivery.
    read_fraction: float = 0.0
    read_after_s: float = 60.0
    # PROTOCOL 3.3 says getsendresult is refused above 100 recipients (41052); our own product
    # needs per-recipient outcomes, so by default the emulator answers anyway.
    result_max_recipients: int = 100
    refuse_large_results: bool = False
    # Suites created for sendbytemplate may not call asyncsend_v2 (KB/0769, after 2020-11-27).
    enforce_message_api: bool = True
    # An image / voice / file message whose media_id was not uploaded (media/upload) in the
    # sender's corp; chat/send follows the same setting. PROTOCOL 3.8 says where a media_id
    # goes but neither that DingTalk refuses a foreign one at send time nor with which code, so
    # this is a choice: 40007 "不合法的媒体文件id" from DingTalk's global table (the row after
    # 40004-40006, which media/upload answers; PROTOCOL's own table lacks it). 40035 is the
    # closest code PROTOCOL itself lists; None accepts any media_id (no check).
    media_id_errcode: int | None = MEDIA_ID_ERRCODE


def media_id_errcode(notices: dict) -> int | None:
    """The setting from the emulator config's `notices` dict (it holds changed keys only)."""
    return notices.get("media_id_errcode", MEDIA_ID_ERRCODE)

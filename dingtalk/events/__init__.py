"""Typed events parsed from decrypted DingTalk callbacks (HTTP push and SyncHTTP rows).

`parse_callback(plaintext)` returns one event per HTTP push and one per SyncHTTP row; anything
it does not recognise (types, malformed rows, malformed biz_data) becomes an UnknownEvent, never
an exception. `parse_callback(event.raw)` gives the same event back, so a stored `raw` can be
re-processed.

Every `kind` value:

- UrlCheckEvent: `check_url`, `check_create_suite_url`, `check_update_suite_url`
- SuiteTicketEvent: `suite_ticket`            TmpAuthCodeEvent: `tmp_auth_code`
- AuthChangeEvent: `change_auth`              SuiteRelieveEvent: `suite_relieve`
- LicenseCodeEvent: `check_suite_license_code`
- OrgSuiteAuthEvent: `org_suite_auth`, `org_suite_change`, `org_suite_relieve`
- AppStateEvent: `app_stop`, `app_restore`, `app_remove`, `app_scope_update`
- CorpUpdateEvent: `corp_update`, `corp_remove`
- MarketOrderEvent: `market_order` (HTTP market_buy and SyncHTTP biz_type 17)
- MarketServiceEvent: `market_service` (biz_type 37 market_service_open / _close, also spelt
  subscription_open / _close)
- MarketRefundEvent: `market_refund` (biz_type 212 market_order_refund_event)
- MarketTryoutEvent: `market_tryout` (biz_type 63 goods_tryout)
- ContactEvent: `contact_user`, `contact_dept`, `contact_role`
- UnknownEvent: `unknown`

`dedupe_key` (at most 255 chars) is equal for repeats of the same push: SyncHTTP rows use
biz_type, corp_id, biz_id, gmt_modified (or id) and a hash of biz_data; HTTP pushes use
EventType, corp, TimeStamp and a hash of the canonical JSON. `timestamp_ms` is DingTalk's
TimeStamp / EventTime / gmt_modified, for refusing older pushes over newer state; None when that
is not a non-negative integer within a bigint (Infinity, NaN, 1e400, -5). Ids (corp_id,
suite_key, codes, contact ids) are None or dropped unless they are strings or integers of at
most 255 characters that PostgreSQL can store (no NUL, no lone surrogate).
"""

from dingtalk.events.parse import CONTACT_ACTIONS, SYNC_ACTIONS, SYNC_PUSH_TYPES, parse_callback
from dingtalk.events.types import (
    AppStateEvent,
    AuthChangeEvent,
    ContactEvent,
    CorpUpdateEvent,
    Event,
    LicenseCodeEvent,
    MarketOrderEvent,
    MarketRefundEvent,
    MarketServiceEvent,
    MarketTryoutEvent,
    OrgSuiteAuthEvent,
    SuiteRelieveEvent,
    SuiteTicketEvent,
    TmpAuthCodeEvent,
    UnknownEvent,
    UrlCheckEvent,
)

__all__ = [
    "CONTACT_ACTIONS",
    "SYNC_ACTIONS",
    "SYNC_PUSH_TYPES",
    "AppStateEvent",
    "AuthChangeEvent",
    "ContactEvent",
    "CorpUpdateEvent",
    "Event",
    "LicenseCodeEvent",
    "MarketOrderEvent",
    "MarketRefundEvent",
    "MarketServiceEvent",
    "MarketTryoutEvent",
    "OrgSuiteAuthEvent",
    "SuiteRelieveEvent",
    "SuiteTicketEvent",
    "TmpAuthCodeEvent",
    "UnknownEvent",
    "UrlCheckEvent",
    "parse_callback",
]

"""Which DingTalk calls may be repeated, per endpoint path, and which errors a repeat can fix.

Every endpoint the library calls is in ENDPOINTS (a test keeps it so): the resource groups and
SuiteApi take their `idempotent=` flags from it. A repeat is SAFE when a second call leaves
DingTalk as one call would (reads, token fetches, setting a state); NEVER blindly repeated when
it may act twice (a send, a create), spend something single-use, or report a first call's
success as an error. For those, a transport error (timeout, reset, 5xx, garbled answer) hides
whether DingTalk acted: `answer_lost(error)` tells the caller, who must check before sending
again (a send's task id, the chat list, the next callback).

    from dingtalk.repeat import answer_lost, is_safe_to_repeat, may_repeat, retryable_error
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dingtalk.errors import RateLimited, TransportError
from dingtalk.retry import RETRYABLE


@dataclass(frozen=True)
class Endpoint:
    """One DingTalk endpoint's repeat rule and the reason for it."""

    safe: bool
    why: str


_READ = Endpoint(True, "a read")
_TOKEN = Endpoint(True, "a token fetch: a second one only gives a token again")
_SEND = Endpoint(False, "a send: repeating it delivers the message twice")
_MSG = "topapi/message/corpconversation"
_SSO = Endpoint(False, "the SSO code is single-use: a repeat after a lost answer gets 40078 for "
                       "a code that worked; the page must ask for a new code")

_TABLE: dict[str, Endpoint] = {
    # Tokens (PROTOCOL 2.1, 6.2, 6.5). get_corp_token hands out a new token each time, but the
    # older one stays usable until its own expiry, so a repeat costs nothing.
    "gettoken": _TOKEN,
    "service/get_suite_token": _TOKEN,
    "service/get_corp_token": _TOKEN,
    # Suite endpoints (PROTOCOL 6.3-6.9).
    "service/get_permanent_code": Endpoint(
        False, "the tmp_auth_code is single-use: a repeat after a lost answer gets 42008/40078 "
               "for a code that worked, and the permanent code it returned is gone"),
    "service/activate_suite": Endpoint(
        True, "sets a state, creates nothing: the corp is activated (get_agent.close 2 -> 1) "
              "however often it is asked; the permanent code is not spent"),
    "service/get_auth_info": _READ,
    "service/get_agent": _READ,
    "service/get_unactive_corp": _READ,
    "service/reauth_corp": Endpoint(
        False, "each accepted call makes DingTalk push a new tmp_auth_code: after a lost answer "
               "wait for the push (or re-read get_unactive_corp) instead"),
    # Contacts v1 (PROTOCOL 4.1, 4.3) and v2 (4.2, 4.4), auth scopes (4.5): all reads.
    "department/list_ids": _READ,
    "department/list": _READ,
    "department/get": _READ,
    "department/list_parent_depts_by_dept": _READ,
    "department/list_parent_depts": _READ,
    "user/get_org_user_count": _READ,
    "user/get": _READ,
    "user/getDeptMember": _READ,
    "user/listbypage": _READ,
    "user/getUseridByUnionid": _READ,
    "topapi/v2/department/listsub": _READ,
    "topapi/v2/department/listsubid": _READ,
    "topapi/v2/department/get": _READ,
    "topapi/v2/department/listparentbydept": _READ,
    "topapi/v2/department/listparentbyuser": _READ,
    "topapi/v2/user/get": _READ,
    "topapi/v2/user/list": _READ,
    "topapi/user/listid": _READ,
    "topapi/user/count": _READ,
    "topapi/user/getbyunionid": _READ,
    "auth/scopes": _READ,
    # Tenant-user SSO (PROTOCOL-ISV 1.2): the code is spent by the first exchange.
    "topapi/v2/user/getuserinfo": _SSO,
    "user/getuserinfo": _SSO,
    # Admin-console SSO (PROTOCOL-ISV 1.3): the ISV's sso token, and a code spent by its
    # first exchange like the tenant-user one (41007 after).
    "sso/gettoken": _TOKEN,
    "sso/getuserinfo": Endpoint(False, "the admin-console code is single-use: a repeat after "
                                       "a lost answer gets 41007 for a code that worked"),
    # Work notices (PROTOCOL 3).
    f"{_MSG}/asyncsend_v2": _SEND,
    f"{_MSG}/sendbytemplate": _SEND,
    f"{_MSG}/getsendprogress": _READ,
    f"{_MSG}/getsendresult": _READ,
    f"{_MSG}/recall": Endpoint(
        False, "what a second recall of a recalled task answers is undocumented (PROTOCOL 3.4); "
               "an error there would read as a recall that failed"),
    f"{_MSG}/status_bar/update": Endpoint(
        False, "a late repeat can overwrite a newer status the caller set in between"),
    # Group chats (PROTOCOL 5).
    "chat/create": Endpoint(False, "a create: a repeat makes a second group"),
    "chat/send": _SEND,
    "chat/get": _READ,
    "chat/getReadList": _READ,
    # Media (PROTOCOL 3.8).
    "media/upload": Endpoint(
        False, "each accepted upload stores the file again under a new media_id: after a lost "
               "answer the first id is unknown and a repeat leaves an orphan copy; upload "
               "again deliberately (the caller holds the bytes) rather than blindly"),
    # JSAPI (PROTOCOL-ISV 2.1). Under the older behaviour each call replaces the ticket, but a
    # repeat after a lost answer only replaces one nobody received.
    "get_jsapi_ticket": Endpoint(True, "a ticket fetch: a second one only gives a ticket again"),
}

_APPSTORE = "topapi/appstore/internal"
_TABLE.update({
    # The app market (PROTOCOL-ISV 3.3). New-API paths are keyed by their template.
    "v1.0/appMarket/orders/{orderId}": _READ,
    f"{_APPSTORE}/order/get": _READ,
    f"{_APPSTORE}/unfinishedorder/list": _READ,
    f"{_APPSTORE}/skupage/get": Endpoint(True, "makes a SKU page URL and changes nothing"),
    f"{_APPSTORE}/order/finish": Endpoint(
        True, "sets a state: the order is fulfilled however often it is said (the emulator "
              "answers ok again; DingTalk's answer to a second finish is undocumented)"),
    f"{_APPSTORE}/order/consume": Endpoint(
        True, "request_id is DingTalk's idempotency key (KB/0886): a repeat with the same id "
              "records one consumption"),
})

ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType(_TABLE)
# A new-API template's pattern: each {name} is one path segment.
_TEMPLATES = tuple(
    (re.compile(re.sub(r"\\\{[A-Za-z_]+\\\}", "[^/]+", re.escape(key)) + "$"), key)
    for key in _TABLE if "{" in key)


def endpoint_key(path: str) -> str:
    """The table's key for a path as the library passes or reports it ("/gettoken?x=1",
    "v1.0/appMarket/orders/123" -> its template)."""
    key = path.split("?", 1)[0].strip("/")
    if key.startswith("v1.0/") and key not in _TABLE:
        return next((template for pattern, template in _TEMPLATES if pattern.match(key)), key)
    return key


def is_classified(path: str) -> bool:
    """Whether the table has a rule for this endpoint."""
    return endpoint_key(path) in _TABLE


def is_safe_to_repeat(path: str) -> bool:
    """True when repeating a call to this endpoint cannot act twice; False when it might, and
    for any endpoint the table does not know (DingTalkClient.request on something new)."""
    rule = _TABLE.get(endpoint_key(path))
    return rule is not None and rule.safe


def retryable_error(error: BaseException) -> bool:
    """An error a later attempt can fix: transport failures, throttling, DingTalk "busy".

    Not API refusals (permission, not found, bad parameters), quotas or expired tokens (the
    client already fetched a new token and tried once more).
    """
    return isinstance(error, RETRYABLE)


def answer_lost(error: BaseException) -> bool:
    """A call that is not safe to repeat (a send, a create, a single-use code) failed without a
    usable answer: DingTalk may have acted. Check before trying again."""
    return isinstance(error, TransportError) and not is_safe_to_repeat(error.path or "")


def may_repeat(path: str, error: BaseException) -> bool:
    """Whether trying this call again (later, after a backoff) is right after `error`.

    Safe endpoints: any retryable error. Others only when DingTalk refused the call before
    acting on it, which a throttle answer says (the call is counted and not run); a transport
    error or a "busy" answer there leaves the outcome unknown.
    """
    if not retryable_error(error):
        return False
    return is_safe_to_repeat(path) or isinstance(error, RateLimited)

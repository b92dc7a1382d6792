"""Contact rows (biz_type 13 / 14, PROTOCOL-ISV 4.3) and ids-only HTTP contact events (7.3).

A row carries the entity's full current state (the v1 user/get or department/get object, as a
suite's token would read it), a fresh `eventId` and a `syncSeq`; leave and remove rows carry
ids only, in the form `contact_remove_form` names ("bare" is the SyncHTTP data-format page's
`{"syncAction"}`, "ids" the event page's `{eventId, syncAction, userId, ...}`).
"""

from __future__ import annotations

import itertools
import secrets
import threading

from ..handlers.views import dept_v1, user_v1

_REMOVE_ACTIONS = ("user_leave_org", "org_dept_remove")
_seq = itertools.count(1)
_stamp_lock = threading.Lock()
_last_stamp = [0]


def modified_ms(now_ms: int) -> int:
    """The row's gmt_modified: the emulated time, strictly increasing across rows.

    Two changes of one entity in the same millisecond must still be ordered by the mirror
    (it orders rows per entity by this stamp, never by syncSeq).
    """
    with _stamp_lock:
        _last_stamp[0] = max(now_ms, _last_stamp[0] + 1)
        return _last_stamp[0]


def event_id() -> str:
    """A unique eventId (DingTalk's are 32 hex characters)."""
    return secrets.token_hex(16)


def user_row_data(corp, userid: str, action: str, *, remove_form: str,
                  unionid: str | None = None) -> dict:
    """biz_data of a biz_type 13 row for one user (`unionid`: a user who has left)."""
    base = {"syncAction": action}
    user = corp.users.get(userid) if corp is not None else None
    if action == "user_leave_org" or user is None:
        if remove_form == "ids":
            base = {"eventId": event_id(), "syncAction": action, "userId": userid}
            if unionid or user is not None:
                base["unionid"] = unionid or user.unionid
        return base
    return {**user_v1(user, isv=True), "errcode": 0, "errmsg": "ok", **base,
            "syncSeq": next(_seq), "eventId": event_id()}


def dept_row_data(corp, dept_id: int, action: str, *, remove_form: str) -> dict:
    """biz_data of a biz_type 14 row for one department."""
    base = {"syncAction": action}
    dept = corp.depts.get(int(dept_id)) if corp is not None else None
    if action == "org_dept_remove" or dept is None:
        if remove_form == "ids":
            base = {"eventId": event_id(), "syncAction": action, "deptId": int(dept_id)}
        return base
    data = dept_v1(dept, isv=True)
    # The row carries the parent (the v1 department/get object), but never the
    # source_identifier a third-party app is not given (PROTOCOL-ISV 4.1).
    data.pop("sourceIdentifier", None)
    if dept.parent_id is not None:
        data["parentid"] = dept.parent_id
    return {**data, "errcode": 0, "errmsg": "ok", **base, "syncSeq": next(_seq),
            "eventId": event_id()}


def changes_of(data: dict) -> list[dict]:
    """The contact changes one PushEvent carries: a batch, or the single-change form."""
    if data.get("changes") is not None:
        return list(data["changes"])
    return [data]


def row_specs(state, event, *, remove_form: str) -> list[tuple[int, str, dict]]:
    """(biz_type, biz_id, biz_data) for every change of a contact PushEvent, in order."""
    corp = state.corps.get(event.corp_id)
    out = []
    for change in changes_of(event.data):
        action = change["action"]
        for userid in change.get("userids") or []:
            out.append((13, userid, user_row_data(corp, userid, action,
                                                  remove_form=remove_form,
                                                  unionid=change.get("unionid"))))
        for dept_id in change.get("dept_ids") or []:
            out.append((14, dept_id, dept_row_data(corp, dept_id, action,
                                                   remove_form=remove_form)))
    return out


def http_event(event, now_ms: int, *, form: str) -> dict:
    """One HTTP-push contact event: ids only, legacy or the newer form (PROTOCOL 7.3)."""
    change = changes_of(event.data)[0]
    users = change.get("userids")
    if form == "new":
        ids = ({"userId": list(users)} if users is not None
               else {"deptId": [int(d) for d in change.get("dept_ids", [])]})
        return {"EventType": change["action"], "EventTime": now_ms, "CorpId": event.corp_id,
                "BizId": event_id(), "eventId": event_id(), **ids}
    ids = ({"UserId": list(users)} if users is not None
           else {"DeptId": [int(d) for d in change.get("dept_ids", [])]})
    return {"EventType": change["action"], "TimeStamp": now_ms, "CorpId": event.corp_id, **ids}

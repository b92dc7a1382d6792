"""The recipient fields of a send (userid_list, dept_id_list, to_all_user), checked early."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dingtalk.errors import MessageError
from dingtalk.messages.limits import MAX_STATUS_BAR_USERIDS

if TYPE_CHECKING:
    from dingtalk.messages.builders import Message


def _not_a_string(values: Iterable[Any], name: str) -> None:
    # A bare string iterates as characters: userids="manager01" would address nine users
    # "m", "a", ... and dept_ids="12" departments 1 and 2 (1 being the whole company).
    if isinstance(values, str | bytes):
        raise MessageError(f"{name} must be a list, not a string")


def userid_list(userids: Iterable[str]) -> list[str]:
    """Userids as a list of non-empty strings without commas (DingTalk joins them with ",")."""
    _not_a_string(userids, "userids")
    users = [str(u) for u in userids]
    if any(not u.strip() or "," in u for u in users):
        raise MessageError("userids must be non-empty and contain no commas")
    return users


def dept_id_list(dept_ids: Iterable[int]) -> list[int]:
    """Department ids as a list of ints."""
    _not_a_string(dept_ids, "dept_ids")
    try:
        return [int(d) for d in dept_ids]
    except (TypeError, ValueError):
        raise MessageError("dept_ids must be whole numbers") from None


@dataclass(frozen=True)
class RecipientLimits:
    """List lengths per send: PROTOCOL 3.1's doc table (the Java SDK allows 5000/500)."""

    max_userids: int = 100
    max_dept_ids: int = 20


def recipients(
    userids: Iterable[str] = (),
    dept_ids: Iterable[int] = (),
    to_all_user: bool = False,
    *,
    limits: RecipientLimits | None = None,
    msg: Message | None = None,
) -> dict[str, Any]:
    """The recipient fields of a send body, refused early when DingTalk would refuse them."""
    limits = limits or RecipientLimits()
    users = userid_list(userids)
    depts = dept_id_list(dept_ids)
    if not users and not depts and not to_all_user:
        raise MessageError("give at least one of userids, dept_ids or to_all_user")
    if len(users) > limits.max_userids:
        raise MessageError(f"{len(users)} userids; at most {limits.max_userids} per send")
    if len(depts) > limits.max_dept_ids:
        raise MessageError(f"{len(depts)} dept ids; at most {limits.max_dept_ids} per send")
    if msg is not None and msg.has_status_bar and (
        depts or to_all_user or len(users) > MAX_STATUS_BAR_USERIDS
    ):
        raise MessageError(f"an OA status bar may only go to at most {MAX_STATUS_BAR_USERIDS} "
                           "userids, without dept ids or to_all_user")
    fields: dict[str, Any] = {}
    if users:
        fields["userid_list"] = ",".join(users)
    if depts:
        fields["dept_id_list"] = ",".join(str(d) for d in depts)
    if to_all_user:
        fields["to_all_user"] = True
    return fields

"""Contacts v1 (GET, query params): department/* and user/*, plus auth/scopes."""

from ..codes import ApiFail
from ..context import CallContext
from ..registry import api
from . import views


def find_user(ctx: CallContext, userid: str, *, missing: int = 60121):
    """The user, in the caller's scope (50002 outside it)."""
    user = ctx.corp.users.get(userid)
    if user is None:
        raise ApiFail(missing)
    if not ctx.user_in_scope(user):
        raise ApiFail(50002)
    return user


@api("/user/get", method="GET")
def user_get(ctx: CallContext) -> dict:
    userid = ctx.require_str("userid")
    with ctx.state.lock:
        user = find_user(ctx, userid)
        return views.user_v1(user, isv=ctx.caller.is_isv)

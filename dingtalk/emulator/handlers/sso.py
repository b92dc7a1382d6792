"""Tenant-user SSO (免登, PROTOCOL-ISV 1.2): auth codes issued by the control API, exchanged
through topapi/v2/user/getuserinfo or the legacy user/getuserinfo."""

import secrets

from ..codes import ApiFail
from ..context import CallContext, ControlContext, ControlError
from ..models import SsoCode, User
from ..registry import api, control


@control("/_emulator/corps/<corp_id>/sso_code")
def sso_code_issue(ctx: ControlContext, corp_id: str) -> dict:
    """A user's auth code, as the DingTalk container hands it to the front end."""
    emulator = ctx.emulator
    userid = ctx.require("userid")
    suite_key, appkey = ctx.arg("suite_key"), ctx.arg("appkey")
    with emulator.state.lock:
        corp = emulator.state.corps.get(corp_id)
        if corp is None:
            raise ControlError(404, f"no corp {corp_id}")
        if not isinstance(userid, str) or userid not in corp.users:
            raise ControlError(404, f"no user {userid!r} in {corp_id}")
        if suite_key is not None and suite_key not in emulator.state.suites:
            raise ControlError(404, f"no suite {suite_key}")
        if appkey is not None and appkey not in emulator.state.apps:
            raise ControlError(404, f"no app {appkey}")
        ttl_ms = emulator.config.sso_code_ttl_s * 1000
        code = SsoCode(code=secrets.token_hex(16), corp_id=corp_id, userid=userid,
                       expires_ms=emulator.clock.now_ms() + ttl_ms, suite_key=suite_key,
                       appkey=appkey)
        emulator.state.sso_codes[code.code] = code
    return {"code": code.code, "corp_id": corp_id, "userid": userid,
            "expires_ms": code.expires_ms}


def _redeem(ctx: CallContext) -> User:
    """The code's user; the code is spent even when the answer is an error (single use)."""
    value = ctx.params.get("code")
    code_text = value.strip() if isinstance(value, str) else ""
    with ctx.state.lock:
        code = ctx.state.sso_codes.pop(code_text, None) if code_text else None
        if code is None or code.expires_ms <= ctx.clock.now_ms():
            raise ApiFail(40078)
        caller = ctx.caller
        assert caller is not None
        if code.corp_id != caller.corp_id:
            raise ApiFail(ctx.config.sso_foreign_corp_errcode)
        if code.suite_key is not None and code.suite_key != caller.suite_key:
            raise ApiFail(40078)
        if code.appkey is not None and code.appkey != caller.appkey:
            raise ApiFail(40078)
        user = ctx.corp.users.get(code.userid)
        if user is None or not ctx.user_in_scope(user):
            raise ApiFail(40079)
        if caller.kind == "suite_corp" and ctx.auth_record is None:
            raise ApiFail(40079)
        return user


def _sys_level(user: User) -> int:
    """1 main admin, 2 sub-admin, 100 boss, 0 other; the emulator's users have no main/sub
    distinction, so an admin answers 1."""
    if user.is_admin:
        return 1
    return 100 if user.is_boss else 0


@api("/topapi/v2/user/getuserinfo", method="POST")
def user_getuserinfo_v2(ctx: CallContext) -> dict:
    user = _redeem(ctx)
    return {"request_id": secrets.token_hex(8), "result": {
        "userid": user.userid, "unionid": user.unionid, "name": user.name,
        "device_id": secrets.token_hex(8), "sys": user.is_admin,
        "sys_level": _sys_level(user), "associated_unionid": ""}}


@api("/user/getuserinfo")
def user_getuserinfo_legacy(ctx: CallContext) -> dict:
    user = _redeem(ctx)
    level = _sys_level(user)
    return {"userid": user.userid, "name": user.name, "deviceId": secrets.token_hex(8),
            "is_sys": user.is_admin,
            "sys_level": str(level) if ctx.config.sso_legacy_sys_level_str else level}

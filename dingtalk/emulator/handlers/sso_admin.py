"""Admin-console SSO (应用管理后台免登, PROTOCOL-ISV 1.3): the ISV's own corp and SSO secret
(control route /_emulator/isv), codes issued by the control API for a customer corp's admin,
and the legacy /sso/gettoken + /sso/getuserinfo."""

import hmac
import secrets

from ..codes import ApiFail
from ..context import CallContext, Caller, ControlContext, ControlError
from ..models import IsvCorp, SsoAdminCode, Token
from ..registry import api, control

# KB/0013 row 41007; codes.py has no message for it (only this module answers it).
_INVALID_CODE = (41007, "无效的ssocode")


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise ControlError(400, f"{name} must be a non-empty string of at most 128 characters")
    return value.strip()


def _isv_view(isv: IsvCorp) -> dict:
    # The control API is the test's side of DingTalk: it shows secrets, like get_suite does.
    return {"corp_id": isv.corp_id, "sso_secret": isv.sso_secret}


@control("/_emulator/isv", methods=("GET", "POST"))
def isv(ctx: ControlContext):
    """POST {corp_id, sso_secret?}: register or update an ISV's own corp; GET lists them."""
    state = ctx.emulator.state
    if ctx.request.method == "GET":
        with state.lock:
            return [_isv_view(i) for i in state.isv_corps.values()]
    corp_id = _text(ctx.require("corp_id"), "corp_id")
    secret = ctx.arg("sso_secret")
    secret = secrets.token_urlsafe(48) if secret is None else _text(secret, "sso_secret")
    with state.lock:
        record = state.isv_corps[corp_id] = IsvCorp(corp_id=corp_id, sso_secret=secret)
        # A new secret ends the sso tokens issued under the old one.
        for value, token in list(state.sso_tokens.items()):
            if token.owner == corp_id:
                del state.sso_tokens[value]
        return _isv_view(record)


@control("/_emulator/corps/<corp_id>/sso_admin_code")
def sso_admin_code_issue(ctx: ControlContext, corp_id: str) -> dict:
    """A code as DingTalk appends it to the admin-backend URL for an admin of the corp."""
    emulator = ctx.emulator
    userid = ctx.require("userid")
    isv_corp_id = ctx.arg("isv_corp_id")
    with emulator.state.lock:
        corp = emulator.state.corps.get(corp_id)
        if corp is None:
            raise ControlError(404, f"no corp {corp_id}")
        user = corp.users.get(userid) if isinstance(userid, str) else None
        if user is None or not user.is_admin:
            raise ControlError(400, f"{userid!r} is not an admin of {corp_id}: only admins "
                                    "open the admin console")
        if isv_corp_id is not None and isv_corp_id not in emulator.state.isv_corps:
            raise ControlError(404, f"no ISV corp {isv_corp_id!r} (POST /_emulator/isv)")
        ttl_ms = emulator.config.sso_admin_code_ttl_s * 1000
        code = SsoAdminCode(code=secrets.token_hex(16), corp_id=corp_id, userid=userid,
                            expires_ms=emulator.clock.now_ms() + ttl_ms,
                            isv_corp_id=isv_corp_id)
        emulator.state.sso_admin_codes[code.code] = code
    return {"code": code.code, "corp_id": corp_id, "userid": userid,
            "expires_ms": code.expires_ms}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@api("/sso/gettoken", method="GET", auth="none")
def sso_gettoken(ctx: CallContext) -> dict:
    """The ISV's corpid + SSOSecret -> the sso token (the same one until it expires)."""
    corpid = ctx.get("corpid")
    if not corpid:
        raise ApiFail(40035)
    state = ctx.state
    with state.lock:
        isv_corp = state.isv_corps.get(str(corpid))
        if isv_corp is None or not _same(isv_corp.sso_secret, str(ctx.get("corpsecret", ""))):
            raise ApiFail(40089)
        ctx.caller = Caller(kind="sso", corp_id=isv_corp.corp_id)
        now = ctx.clock.now_ms()
        key = f"sso:{isv_corp.corp_id}"
        token = state.sso_tokens.get(state.current_app_token.get(key, ""))
        if token is None or token.expires_ms <= now:
            token = Token(value=secrets.token_hex(16), kind="sso", owner=isv_corp.corp_id,
                          corp_id=None, expires_ms=now + ctx.config.sso_token_ttl_s * 1000,
                          issued_ms=now)
            state.sso_tokens[token.value] = token
            state.current_app_token[key] = token.value
    # KB/1449's answer carries no expires_in: its lifetime is not stated.
    return {"access_token": token.value}


@api("/sso/getuserinfo", method="GET", auth="none")
def sso_getuserinfo(ctx: CallContext) -> dict:
    """An admin-console code -> the admin and the customer corp; the code is spent."""
    value = ctx.get("access_token")
    if not value:
        raise ApiFail(41001)
    state = ctx.state
    with state.lock:
        token = state.sso_tokens.get(str(value))
        if token is None:
            raise ApiFail(40014)
        if token.expires_ms <= ctx.clock.now_ms():
            raise ApiFail(ctx.config.expired_token_errcode)
        ctx.caller = Caller(kind="sso", corp_id=token.owner)
        text = ctx.get("code")
        code = state.sso_admin_codes.pop(text.strip(), None) if isinstance(text, str) else None
        if code is None or code.expires_ms <= ctx.clock.now_ms():
            raise ApiFail(*_INVALID_CODE)
        if code.isv_corp_id is not None and code.isv_corp_id != token.owner:
            raise ApiFail(*_INVALID_CODE)
        corp = state.corps.get(code.corp_id)
        user = corp.users.get(code.userid) if corp is not None else None
        if corp is None or user is None:
            raise ApiFail(*_INVALID_CODE)
        return {"user_info": {"name": user.name, "avatar": user.avatar, "userid": user.userid,
                              "email": user.email},
                "is_sys": user.is_admin,
                "corp_info": {"corpid": corp.corp_id, "corp_name": corp.name}}

"""Tenant-user SSO: a dd.requestAuthCode code -> the user, recorded per (tenant, userid)."""


from django.conf import settings

from core import clock
from core.storable import is_storable_id, storable_text
from dingtalk.errors import ApiError
from identity.errors import SsoAnswerUnstorable, SsoCodeInvalid, SsoInputInvalid, SsoUserNotVisible
from identity.models import TenantUser
from tenants.models import Tenant
from tenants.services.clients import client_for

# DingTalk's codes are 32 hex characters; anything far longer is not a code.
CODE_MAX_LENGTH = 256
def storable(text: str, max_length: int) -> str:
    """DingTalk's free text (a name, an email) as a column can keep it (core.storable)."""
    return storable_text(text, max_length)


def unstorable_id(value: str, max_length: int) -> bool:
    """True when an identifier (a userid, unionid, corp id) cannot be kept exactly as given:
    the caller refuses the answer (core.storable.is_storable_id)."""
    return not is_storable_id(value, max_length)


def _check_code(code: object) -> str:
    if not isinstance(code, str) or not code.strip():
        raise SsoInputInvalid("code must be the non-empty auth code from dd.requestAuthCode")
    if len(code) > CODE_MAX_LENGTH or "\x00" in code:
        raise SsoInputInvalid(f"code must be at most {CODE_MAX_LENGTH} characters, without NUL")
    return code.strip()


def sso_user_exchange(*, tenant: Tenant, code: str) -> TenantUser:
    """Exchange the code (single use) with the tenant's corp token and upsert the user.

    Raises TenantInactive (409) for an inactive tenant, SsoCodeInvalid (400) for DingTalk's
    40078, SsoUserNotVisible (403) for 40079; other DingTalk errors pass through unchanged.
    """
    code = _check_code(code)
    client = client_for(tenant)
    legacy = settings.IDENTITY_SSO_LEGACY_GETUSERINFO
    try:
        info = client.users.getuserinfo(code, legacy=legacy)
    except ApiError as exc:
        # The code itself never goes into a message: it is a (short-lived) credential.
        if exc.errcode == 40078:
            raise SsoCodeInvalid(
                "the SSO code is wrong, already used, or older than 5 minutes: ask the page "
                "for a new one (dd.requestAuthCode)",
                extra={"corp_id": tenant.corp_id, "errcode": 40078}) from None
        if exc.errcode == 40079:
            raise SsoUserNotVisible(
                "the user is outside the app's visible range in this organisation (or the app "
                "is not authorised there)",
                extra={"corp_id": tenant.corp_id, "errcode": 40079}) from None
        raise
    for field, value, max_length in (("userid", info.userid, 64),
                                     ("unionid", info.unionid or "", 100)):
        if unstorable_id(value, max_length):
            # The value is not echoed: it is whatever DingTalk (or something posing as it) sent.
            raise SsoAnswerUnstorable(
                f"DingTalk answered a {field} dingsuite cannot store (a NUL, an invalid "
                f"character, or over {max_length} characters): nothing recorded",
                extra={"corp_id": tenant.corp_id, "field": field})
    now = clock.now()
    fields = {"name": storable(info.name or "", 200), "is_admin": info.is_admin,
              "sys_level": info.sys_level, "last_seen_at": now}
    if info.unionid:  # the legacy answer has none: keep what an earlier exchange recorded
        fields["unionid"] = info.unionid
    # One statement (INSERT .. ON CONFLICT DO UPDATE): concurrent first logins of one user
    # meet no IntegrityError, and first_seen_at stays the first.
    TenantUser.objects.bulk_create(
        [TenantUser(tenant=tenant, userid=info.userid, first_seen_at=now, **fields)],
        update_conflicts=True, unique_fields=["tenant", "userid"], update_fields=list(fields))
    return TenantUser.objects.get(tenant=tenant, userid=info.userid)

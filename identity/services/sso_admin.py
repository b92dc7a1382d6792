"""Admin-console SSO (应用管理后台免登, PROTOCOL-ISV 1.3): DingTalk's code -> who the admin is
and which customer corp they came from -> a short-lived, single-use signed assertion the
product redeems through the API. Nobody gets a session here."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet

from core import clock
from dingtalk.errors import ApiError, TransportError
from dingtalk.sso_admin import SSO_CODE_INVALID, SsoAdmin
from identity.errors import (
    AssertionExpired,
    AssertionInvalid,
    AssertionNotFound,
    AssertionUsed,
    SsoAdminCodeInvalid,
    SsoAdminDingTalkFailed,
    SsoAdminInputInvalid,
    SsoAdminIsvRequired,
    SsoAdminNotConfigured,
)
from identity.models import AdminSsoAssertion, AdminSsoCredential
from identity.services.sso import storable, unstorable_id
from identity.services.sso_admin_client import sso_admin_api_for
from tenants.models import Suite, Tenant

# DingTalk's codes are 32 hex characters; printable ASCII up to 256 leaves room for a change.
CODE_MAX_LENGTH = 256
_TEXT = re.compile(r"[\x21-\x7e]+")
# Its own salt: a value Django signed for anything else is never an assertion.
ASSERTION_SALT = "identity.sso_admin.assertion"
# A random id (43) + ":" + the signature (43); anything much longer is not ours.
ASSERTION_MAX_LENGTH = 200


@dataclass(frozen=True)
class AdminSsoLogin:
    """A login handed over: the assertion (shown once, never stored) and where it goes."""

    assertion: str
    redirect_url: str
    record: AdminSsoAssertion

    def __repr__(self) -> str:
        return f"AdminSsoLogin(record={self.record!r}, assertion=***)"


@dataclass(frozen=True)
class AdminSsoIdentity:
    """A redeemed assertion: the admin, their corp, and its tenant for the redeeming key."""

    record: AdminSsoAssertion
    tenant: Tenant | None


def _check_text(value: object, name: str, max_length: int) -> str:
    if not isinstance(value, str) or not value:
        raise SsoAdminInputInvalid(f"{name} is missing", extra={"field": name})
    if len(value) > max_length or not _TEXT.fullmatch(value):
        # The value itself is never echoed: a code is a credential, and this one is garbage.
        raise SsoAdminInputInvalid(
            f"{name} must be 1-{max_length} printable ASCII characters", extra={"field": name})
    return value


def _credential(isv: str | None) -> AdminSsoCredential:
    enabled = AdminSsoCredential.objects.filter(enabled=True)
    if isv is not None:
        credential = enabled.filter(corp_id=_check_text(isv, "isv", 64)).first()
        if credential is None:
            raise SsoAdminNotConfigured("no admin-console SSO credentials for this ISV corp id",
                                        extra={"isv": isv})
        return credential
    found = list(enabled[:2])
    if not found:
        raise SsoAdminNotConfigured("admin-console SSO is not configured: add the ISV's corp id "
                                    "and SSO secret in the admin")
    if len(found) > 1:
        raise SsoAdminIsvRequired("several ISV corps are configured: the admin-backend URL "
                                  "must name one (?isv=<corpid>)")
    return found[0]


def _exchange(credential: AdminSsoCredential, code: str) -> SsoAdmin:
    try:
        return sso_admin_api_for(credential).getuserinfo(code)
    except ApiError as exc:
        if exc.errcode == SSO_CODE_INVALID:
            raise SsoAdminCodeInvalid(
                "the admin-console code is wrong, already used or expired: open the app from "
                "the DingTalk admin console again", extra={"errcode": exc.errcode}) from None
        raise SsoAdminDingTalkFailed(
            "DingTalk refused the admin-console SSO exchange",
            extra={"errcode": exc.errcode, "errmsg": exc.errmsg}) from None
    except TransportError:
        raise SsoAdminDingTalkFailed("DingTalk could not be reached; try again") from None


def _with_assertion(url: str, assertion: str) -> str:
    """The landing URL with `assertion=` added (an old one dropped) and the rest of its query
    kept byte for byte: decoding and re-encoding it would turn a GBK value into U+FFFD."""
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&")
            if pair and unquote_plus(pair.partition("=")[0]) != "assertion"]
    kept.append(f"assertion={quote(assertion, safe='')}")
    return urlunsplit(parts._replace(query="&".join(kept)))


def _digest(random_id: str) -> str:
    return hashlib.sha256(random_id.encode("ascii")).hexdigest()


def sso_admin_login(*, code: str, isv: str | None = None) -> AdminSsoLogin:
    """Exchange an admin-console code with the ISV's credentials and issue an assertion.

    No transaction is open around the DingTalk call; the row is one INSERT afterwards.
    """
    code = _check_text(code, "code", CODE_MAX_LENGTH)
    credential = _credential(isv)
    admin = _exchange(credential, code)
    for field, value in (("userid", admin.userid), ("corp_id", admin.corp_id)):
        if unstorable_id(value, 64):
            # Cleaned or cut, the id would name another admin or corp: no assertion at all.
            raise SsoAdminDingTalkFailed(
                f"DingTalk answered a {field} dingsuite cannot store (a NUL, an invalid "
                "character, or over 64 characters)", extra={"field": field})
    random_id = secrets.token_urlsafe(32)
    now = clock.now()
    record = AdminSsoAssertion.objects.create(
        credential=credential, digest=_digest(random_id), userid=admin.userid,
        name=storable(admin.name, 200), email=storable(admin.email, 200),
        avatar=storable(admin.avatar, 2000), is_sys=admin.is_sys,
        corp_id=admin.corp_id, corp_name=storable(admin.corp_name, 200),
        issued_at=now,
        expires_at=now + timedelta(seconds=settings.IDENTITY_SSO_ADMIN_ASSERTION_TTL_S))
    assertion = signing.Signer(salt=ASSERTION_SALT).sign(random_id)
    return AdminSsoLogin(assertion=assertion,
                         redirect_url=_with_assertion(credential.landing_url, assertion),
                         record=record)


def _unsign(assertion: object) -> str:
    if not isinstance(assertion, str) or not 0 < len(assertion) <= ASSERTION_MAX_LENGTH \
            or "\x00" in assertion:
        raise AssertionInvalid("assertion must be the value the landing page received")
    try:
        return signing.Signer(salt=ASSERTION_SALT).unsign(assertion)
    except signing.BadSignature:
        raise AssertionInvalid("not an assertion dingsuite issued") from None


def sso_admin_redeem(*, suite: Suite | None, assertion: str,
                     tenants: QuerySet[Tenant]) -> AdminSsoIdentity:
    """Redeem an assertion once for a suite its credentials serve; `tenants` are those the
    caller may see (the customer corp's authorized one among them is returned, else None).

    One conditional UPDATE claims it, so of two concurrent redeems exactly one wins.
    """
    digest = _digest(_unsign(assertion))
    record = AdminSsoAssertion.objects.filter(digest=digest).first()
    # Another suite's assertion answers exactly like one that does not exist.
    if record is None or suite is None or not record.credential.suites.filter(
            pk=suite.pk).exists():
        raise AssertionNotFound("no such assertion for this API key")
    now = clock.now()
    won = AdminSsoAssertion.objects.filter(
        pk=record.pk, redeemed_at__isnull=True, expires_at__gt=now,
    ).update(redeemed_at=now, redeemed_by=suite)
    record.refresh_from_db()
    if not won:
        if record.redeemed_at is not None:
            raise AssertionUsed("the assertion was redeemed already: each is good for one login")
        raise AssertionExpired(
            "the assertion expired before it was redeemed: open the app from the DingTalk "
            "admin console again",
            extra={"expires_at": record.expires_at.isoformat()})
    tenant = tenants.filter(suite=suite, corp_id=record.corp_id,
                            status=Tenant.Status.AUTHORIZED).first()
    return AdminSsoIdentity(record=record, tenant=tenant)

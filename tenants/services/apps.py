"""Registering an internal app (create or update in place): the corp's own app as a tenant.

An internal app is an appkey + appsecret (or, from before 2019, the corp's corpid + corpsecret,
PROTOCOL 2.1), optionally with the token and EncodingAESKey of its own callback URL. It is a
Tenant of kind INTERNAL_APP with no suite; it holds only the status AUTHORIZED (DingTalk pushes
internal apps no authorization, stop or relieve), and an operator's suspension is its off switch.
"""

import logging

from django.db import transaction

from core import clock
from tenants.errors import AppInvalid
from tenants.models import Tenant
from tenants.selectors.apps import app_cache_forget
from tenants.services.callback_input import SUITE_KEY_RE
from tenants.services.suites import AES_KEY_RE, TOKEN_RE

logger = logging.getLogger("tenants.apps")

# Appkeys and corp ids become URL path segments (/callbacks/apps/<key>/) and token-cache keys.
_KEY_RE = SUITE_KEY_RE
_SECRET_FIELDS = ("appsecret", "corpsecret", "callback_token", "encoding_aes_key")
_VALUE_FIELDS = ("app_name", "corp_name", "agent_id", "callback_trailing_key",
                 *_SECRET_FIELDS)


def _secret_problem(value: str) -> str | None:
    if len(value) > 256 or value != value.strip():
        return "at most 256 characters, no surrounding spaces"
    return None


def app_validate(*, corp_id, appkey="", appsecret="", corpsecret="", callback_token="",
                 encoding_aes_key="", agent_id=None, app_name="", corp_name="",
                 callback_trailing_key=Tenant.TrailingKey.CORP_ID) -> None:
    """Raise AppInvalid (naming the bad fields, never their values) unless all are valid."""
    problems = {}
    if not _KEY_RE.fullmatch(corp_id or ""):
        problems["corp_id"] = "1-64 characters from letters, digits, '_', '.', '-'"
    if appkey:
        if not _KEY_RE.fullmatch(appkey):
            problems["appkey"] = "1-64 characters from letters, digits, '_', '.', '-'"
        if not appsecret:
            problems["appsecret"] = "required with an appkey"
        if corpsecret:
            problems["corpsecret"] = "an app has an appkey + appsecret or a corpsecret, not both"
    else:
        if not corpsecret:
            problems["appkey"] = "required (or, for a legacy app, no appkey and a corpsecret)"
        if appsecret:
            problems["appsecret"] = "needs an appkey"
    for name, value in (("appsecret", appsecret), ("corpsecret", corpsecret)):
        if value and name not in problems and _secret_problem(value):
            problems[name] = _secret_problem(value)
    if callback_token or encoding_aes_key:
        # Both or neither: a callback needs the two to verify and decrypt.
        if not TOKEN_RE.fullmatch(callback_token or ""):
            problems["callback_token"] = "3-64 printable characters without spaces"
        if not AES_KEY_RE.fullmatch(encoding_aes_key or ""):
            problems["encoding_aes_key"] = "exactly 43 characters from [A-Za-z0-9]"
    if agent_id is not None and not (isinstance(agent_id, int) and 0 < agent_id < 2**63):
        problems["agent_id"] = "a positive integer"
    if len(app_name or "") > 100:
        problems["app_name"] = "at most 100 characters"
    if len(corp_name or "") > 200:
        problems["corp_name"] = "at most 200 characters"
    if callback_trailing_key not in Tenant.TrailingKey.values:
        problems["callback_trailing_key"] = f"one of {', '.join(Tenant.TrailingKey.values)}"
    elif callback_trailing_key == Tenant.TrailingKey.APPKEY and not appkey:
        problems["callback_trailing_key"] = "appkey needs an appkey (corpsecret apps: corp_id)"
    if problems:
        raise AppInvalid("invalid internal app registration: " + ", ".join(sorted(problems)),
                         extra={"fields": problems})


def _locked(*, appkey: str, corp_id: str) -> Tenant | None:
    apps = Tenant.objects.select_for_update().filter(kind=Tenant.Kind.INTERNAL_APP).order_by("pk")
    if appkey:
        return apps.filter(appkey=appkey).first()
    return apps.filter(appkey="", corp_id=corp_id).first()


def _check_clashes(tenant: Tenant) -> None:
    """An appkey equal to a corpsecret app's corp id would share its callback URL and name."""
    apps = Tenant.objects.filter(kind=Tenant.Kind.INTERNAL_APP).exclude(pk=tenant.pk)
    clash = (apps.filter(appkey="", corp_id=tenant.appkey) if tenant.appkey
             else apps.filter(appkey=tenant.corp_id))
    if clash.exists():
        field = "appkey" if tenant.appkey else "corp_id"
        raise AppInvalid("invalid internal app registration: " + field, extra={"fields": {
            field: "another internal app is registered under this key"}})


def app_register(
    *,
    corp_id: str,
    appkey: str = "",
    appsecret: str = "",
    corpsecret: str = "",
    agent_id: int | None = None,
    app_name: str = "",
    corp_name: str = "",
    callback_token: str = "",
    encoding_aes_key: str = "",
    callback_trailing_key: str = "",
) -> Tenant:
    """Create the internal app, or update it in place when its appkey (for a corpsecret app:
    its corp id) is registered. On update, empty values and a None agent_id keep the stored
    ones, so re-running registration with only a secret rotates it."""
    given = {"appsecret": appsecret, "corpsecret": corpsecret, "agent_id": agent_id,
             "app_name": app_name, "corp_name": corp_name, "callback_token": callback_token,
             "encoding_aes_key": encoding_aes_key,
             "callback_trailing_key": callback_trailing_key}
    with transaction.atomic():
        tenant = _locked(appkey=appkey, corp_id=corp_id)
        created = tenant is None
        if created:
            tenant = Tenant(kind=Tenant.Kind.INTERNAL_APP, corp_id=corp_id, appkey=appkey,
                            status=Tenant.Status.AUTHORIZED, authorized_at=clock.now())
        elif tenant.corp_id != corp_id:
            raise AppInvalid("invalid internal app registration: corp_id", extra={"fields": {
                "corp_id": "an appkey belongs to one corp: this one is registered for "
                           "another corp"}})
        for name, value in given.items():
            if value or (name == "agent_id" and value is not None):
                setattr(tenant, name, value)
        app_validate(appkey=tenant.appkey, corp_id=tenant.corp_id,
                     **{name: getattr(tenant, name) for name in _VALUE_FIELDS})
        _check_clashes(tenant)
        tenant.save()
    app_cache_forget(app_key=tenant.app_key_label)
    logger.info("internal app %s of corp %s %s", tenant.app_key_label, tenant.corp_id,
                "registered" if created else "updated")
    return tenant

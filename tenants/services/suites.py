"""Registering a suite (create or update in place) with validated callback credentials."""

import logging
import re

from django.db import transaction

from tenants.errors import SuiteInvalid
from tenants.models import Suite
from tenants.selectors.suites import suite_cache_forget

logger = logging.getLogger("tenants.suites")

# PROTOCOL 7.1: EncodingAESKey is exactly 43 letters/digits; DingTalk's console allows tokens of
# 3-32 letters/digits and register_call_back up to 64, so we accept 3-64.
AES_KEY_RE = re.compile(r"[A-Za-z0-9]{43}")
TOKEN_RE = re.compile(r"[\x21-\x7e]{3,64}")
# The key becomes a URL path segment (/callbacks/<suite_key>/).
_SUITE_KEY_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_NUMERIC_ID_RE = re.compile(r"[0-9]{0,32}")


# Set on every registration; the other fields keep their stored value when given empty.
_ALWAYS_SET = frozenset({"suite_secret", "callback_token", "encoding_aes_key", "push_style",
                         "message_api"})


def suite_validate(*, suite_key, suite_secret, callback_token, encoding_aes_key, suite_id="",
                   app_id="", name="", push_style=Suite.PushStyle.SYNC_HTTP,
                   message_api=Suite.MessageApi.ASYNCSEND_V2, template_ids=None,
                   require_suite_id=True) -> None:
    """Raise SuiteInvalid (naming the bad fields, never their values) unless all are valid."""
    problems = {}
    if not _SUITE_KEY_RE.fullmatch(suite_key or ""):
        problems["suite_key"] = "1-64 characters from letters, digits, '_', '.', '-'"
    if not suite_secret or len(suite_secret) > 256 or suite_secret != suite_secret.strip():
        problems["suite_secret"] = "required, at most 256 characters, no surrounding spaces"
    if not TOKEN_RE.fullmatch(callback_token or ""):
        problems["callback_token"] = "3-64 printable characters without spaces"
    if not AES_KEY_RE.fullmatch(encoding_aes_key or ""):
        problems["encoding_aes_key"] = "exactly 43 characters from [A-Za-z0-9]"
    for field, value in (("suite_id", suite_id), ("app_id", app_id)):
        if not _NUMERIC_ID_RE.fullmatch(value or ""):
            problems[field] = "digits only"
    if len(name or "") > 100:
        problems["name"] = "at most 100 characters"
    if require_suite_id and push_style == Suite.PushStyle.SYNC_HTTP and not suite_id:
        # SyncHTTP rows name their suite only by subscribe_id "<suite_id>_0": without it a push
        # cannot be checked against the URL it came to.
        problems["suite_id"] = "required for SyncHTTP suites (the console's SuiteId)"
    if push_style not in Suite.PushStyle.values:
        problems["push_style"] = f"one of {', '.join(Suite.PushStyle.values)}"
    if message_api not in Suite.MessageApi.values:
        problems["message_api"] = f"one of {', '.join(Suite.MessageApi.values)}"
    if template_ids is not None and not (
        isinstance(template_ids, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in template_ids.items())
    ):
        problems["template_ids"] = "a mapping of names to template ids (strings)"
    if problems:
        raise SuiteInvalid("invalid suite registration: " + ", ".join(sorted(problems)),
                           extra={"fields": problems})


def suite_register(
    *,
    suite_key: str,
    suite_secret: str,
    callback_token: str,
    encoding_aes_key: str,
    suite_id: str = "",
    app_id: str = "",
    name: str = "",
    push_style: str = Suite.PushStyle.SYNC_HTTP,
    message_api: str = Suite.MessageApi.ASYNCSEND_V2,
    template_ids: dict | None = None,
) -> Suite:
    """Create the suite, or update it in place when the key exists.

    On update, empty `suite_id`, `app_id`, `name` and a None `template_ids` keep the stored
    values, so re-running registration with only the secrets rotates them.
    """
    values = {"suite_secret": suite_secret, "callback_token": callback_token,
              "encoding_aes_key": encoding_aes_key, "push_style": push_style,
              "message_api": message_api, "suite_id": suite_id, "app_id": app_id, "name": name,
              "template_ids": template_ids}
    suite_validate(suite_key=suite_key, require_suite_id=False, **values)
    fields = {key: value for key, value in values.items() if value or key in _ALWAYS_SET}
    with transaction.atomic():
        suite = Suite.objects.select_for_update().filter(suite_key=suite_key).first()
        created = suite is None
        if created:
            suite = Suite(suite_key=suite_key, template_ids={})
        for key, value in fields.items():
            setattr(suite, key, value)
        # An update may leave suite_id out (it keeps the stored one): check the merged row.
        suite_validate(suite_key=suite_key, **{**values, "suite_id": suite.suite_id})
        suite.save()
    suite_cache_forget(suite_key=suite_key)
    logger.info("suite %s %s (push_style=%s)", suite_key,
                "registered" if created else "updated", push_style)
    return suite

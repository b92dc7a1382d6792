"""Settings of the identity area (imported by config/settings/base.py)."""

import os

# dd.config signatures (PROTOCOL-ISV 2.2, UNCERTAIN which hash): "sha256" as the current docs'
# samples compute, or "sha1" as the 2016 docs and most SDKs do.
IDENTITY_JSAPI_SIGNATURE_HASH = os.environ.get("IDENTITY_JSAPI_SIGNATURE_HASH", "sha256")
if IDENTITY_JSAPI_SIGNATURE_HASH not in ("sha256", "sha1"):
    raise ValueError("IDENTITY_JSAPI_SIGNATURE_HASH must be sha256 or sha1")
# A cached jsapi_ticket is replaced this many seconds before DingTalk's expires_in runs out
# (isv-demo-java refreshes 10 minutes ahead), so no page is signed with a dying ticket.
IDENTITY_JSAPI_REFRESH_AHEAD_S = float(os.environ.get("IDENTITY_JSAPI_REFRESH_AHEAD_S", "600"))

# Celery beat entries of this area; base.py merges them into CELERY_BEAT_SCHEDULE.
BEAT_SCHEDULE: dict[str, dict] = {}

# Admin-console SSO (docs/sso.md): how long the assertion handed to the product's landing page
# may wait for its redeem, in seconds (single use either way).
IDENTITY_SSO_ADMIN_ASSERTION_TTL_S = int(os.environ.get("IDENTITY_SSO_ADMIN_ASSERTION_TTL_S",
                                                        "120"))
# Admin-console SSO assertions (who logged in, from which corp) are kept this many days after
# they expire, for the audit trail, then purged by the daily retention run.
IDENTITY_SSO_ADMIN_ASSERTION_RETAIN_DAYS = int(
    os.environ.get("IDENTITY_SSO_ADMIN_ASSERTION_RETAIN_DAYS", "30"))

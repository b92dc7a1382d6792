"""The one bridge from admin-console SSO to dingtalk/: a pooled SsoAdminApi per ISV corp, its
sso token in the shared token store (Redis + the durable fallback's lock), like every token."""

from __future__ import annotations

import hashlib
import threading

from django.conf import settings

from core import clock
from dingtalk.sso_admin import SsoAdminApi, SsoCredentials
from identity.models import AdminSsoCredential
from tenants.services.clients import token_manager

_lock = threading.Lock()
_apis: dict[tuple, SsoAdminApi] = {}


def _fingerprint(secret: str) -> str:
    # The pool's keys hold a digest of the secret, never the secret itself.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def sso_admin_api_for(credential: AdminSsoCredential) -> SsoAdminApi:
    """A ready SsoAdminApi for the credential; rebuilt when its secret or the base URL changes
    (the token cached under the old secret is dropped by the first 40014 it meets)."""
    base_url = settings.DINGTALK_BASE_URL
    key = (credential.corp_id, _fingerprint(credential.sso_secret), base_url)
    with _lock:
        api = _apis.get(key)
        if api is None:
            api = SsoAdminApi(SsoCredentials(credential.corp_id, credential.sso_secret),
                              token_manager(), base_url=base_url, clock=clock.time)
            _apis[key] = api
    return api

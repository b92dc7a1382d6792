"""DRF authentication by API key: `Authorization: Bearer dsk_...` (or `X-Api-Key: dsk_...`).

A request without a valid key is answered 401 with `WWW-Authenticate: Bearer` (DRF answers 401
rather than 403 because `authenticate_header` says how to authenticate).
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from api.models import ApiKey
from api.services.keys import api_key_authenticate


class ApiKeyUser:
    """What request.user is for a key: authenticated, never staff, never a Django user."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.pk = None

    def __str__(self) -> str:
        return f"api key {self.api_key.prefix}"


def _presented_key(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.META.get("HTTP_X_API_KEY") or None


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        presented = _presented_key(request)
        if presented is None:
            return None
        api_key = api_key_authenticate(plaintext=presented)
        if api_key is None:
            raise AuthenticationFailed("the API key is unknown or revoked", code="invalid_api_key")
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="dingsuite"'


class HasApiKey(BasePermission):
    """Only requests authenticated by an API key (no sessions, no anonymous)."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)

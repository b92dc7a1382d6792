"""Per-key throttling on the shared cache (Redis when REDIS_URL is set), so every web process
counts the same requests. A throttled request is answered 429 with Retry-After."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiKey

logger = logging.getLogger("api.throttling")


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def __init__(self) -> None:
        # The rate is read per request (not at import), so a key's own rate applies.
        self.cache = caches[settings.API_THROTTLE_CACHE]

    def allow_request(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        self.rate = api_key.throttle_rate or settings.API_KEY_THROTTLE_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache (Redis) is down: serve rather than refuse all
            logger.warning("throttle cache unavailable (%s); request allowed",
                           type(exc).__name__)
            return True

    def get_cache_key(self, request, view) -> str:
        return f"api:throttle:{request.auth.prefix}"

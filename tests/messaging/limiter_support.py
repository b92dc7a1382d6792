"""Shared pieces of the limiter tests: a Redis limiter on a private key prefix, key cleanup."""

from __future__ import annotations

import uuid

import redis
from django.conf import settings

from messaging.limiter.redis_backend import RedisLimiter


def redis_limiter(url: str | None = None, **kwargs) -> RedisLimiter:
    """A RedisLimiter whose keys live under a prefix of this test's own."""
    return RedisLimiter(url=url or settings.REDIS_URL,
                        prefix=f"test-limiter-{uuid.uuid4().hex[:10]}:", **kwargs)


def delete_own_keys(backend: RedisLimiter) -> None:
    """Delete only this test's keys (never FLUSHDB: the Redis is shared)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match=f"{backend.prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()

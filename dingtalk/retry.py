"""Bounded exponential backoff with full jitter, only for idempotent calls and retryable errors."""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Callable
from typing import TypeVar

from dingtalk.errors import RateLimited, TransientApiError, TransportError

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE: tuple[type[Exception], ...] = (TransportError, RateLimited, TransientApiError)


class RetryPolicy:
    """Retries `fn` on transport errors, throttling and DingTalk "busy" answers.

    Non-idempotent calls (sends, creates) never retry: a timeout may hide a send that
    happened, so the caller decides. A RateLimited whose `retry_after` exceeds `max_delay`
    (the 5-minute IP ban) is raised at once rather than slept through.
    """

    def __init__(
        self,
        max_attempts: int = 3,
        base_delay: float = 0.2,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._random = random

    def __repr__(self) -> str:
        return (f"RetryPolicy(max_attempts={self.max_attempts}, base_delay={self.base_delay}, "
                f"max_delay={self.max_delay})")

    def delay(self, attempt: int, error: Exception | None = None) -> float | None:
        """Seconds to wait after failed attempt number `attempt` (1-based); None = give up."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        delay = self._random() * ceiling
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            if retry_after > self.max_delay:
                return None
            delay = max(delay, retry_after)
        return delay

    def call(self, fn: Callable[[], T], *, idempotent: bool) -> T:
        """Run `fn`, retrying per this policy."""
        attempt = 1
        while True:
            try:
                return fn()
            except RETRYABLE as error:
                if not idempotent or attempt >= self.max_attempts:
                    raise
                delay = self.delay(attempt, error)
                if delay is None:
                    raise
                logger.warning("attempt %d failed (%s); retrying in %.2f s", attempt,
                               error, delay)
                self._sleep(delay)
                attempt += 1

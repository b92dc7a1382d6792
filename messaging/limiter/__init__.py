"""The shared limiter: all-or-nothing admission under DingTalk's quotas, in Redis or the database.

    from messaging.limiter import acquire, notice_send_rules
    decision = acquire(notice_send_rules(app_key=..., corp_id=..., suite_key=...), amount=100)
    if not decision.allowed:  # nothing was taken; try again in decision.retry_after_s
        ...

Window semantics: SLIDING windows, exactly as the emulator's per-minute quotas
(dingtalk/emulator/notices/quotas.py `_Window`, docs/emulator.md "sliding 60-second windows of
emulated time"): an admission at t (integer ms of core.clock) counts against its rule while
now < t + window, and frees at exactly t + window. Not calendar-minute windows: a fixed window
would let 2 x limit through around a minute boundary, which DingTalk's sliding count drops.
The emulator's QPS limits (90018) use fixed real-clock seconds instead; a sliding second never
admits more than any fixed second would allow, so one semantics serves every rule.

`usage(rules)` reads each rule's current use (used of limit, seconds until the oldest admission
frees) and changes nothing: for operators (messaging/admin_limiter.py); it raises
LimiterUnavailable when Redis does not answer.

`acquire(rules, amount)` admits under every rule or under none; a refusal names the rule that
frees last and how long until it has room. Backends: Redis (`RedisLimiter`, one Lua script per
acquire) when settings.REDIS_URL is set, else the database (`DatabaseLimiter`). When Redis is
down or hung the limiter fails closed within MESSAGING_LIMITER_REDIS_TIMEOUT_S: not allowed,
retry after MESSAGING_LIMITER_UNAVAILABLE_RETRY_S, `blocking_rule` None (sending blind could
lose messages silently; waiting a second loses nothing).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from django.conf import settings

from .base import Decision, LimiterBackend, LimiterUnavailable, Rule, RuleUsage
from .rules import (
    app_api_calls_rule,
    app_corp_recipients_rule,
    corp_recipients_rule,
    egress_rule,
    notice_send_rules,
    suite_recipients_rule,
)

__all__ = [
    "Decision", "LimiterBackend", "LimiterUnavailable", "Rule", "RuleUsage", "acquire",
    "app_api_calls_rule", "app_corp_recipients_rule", "corp_recipients_rule", "egress_rule",
    "limiter", "notice_send_rules", "suite_recipients_rule", "usage",
]

_lock = threading.Lock()
_backends: dict[tuple[str, str], LimiterBackend] = {}


def limiter() -> LimiterBackend:
    """The configured backend: Redis when settings.REDIS_URL is set, else the database."""
    url = settings.REDIS_URL or ""
    prefix = settings.MESSAGING_LIMITER_REDIS_PREFIX if url else ""
    with _lock:
        backend = _backends.get((url, prefix))
        if backend is None:
            if url:
                from .redis_backend import RedisLimiter

                backend = RedisLimiter(url=url, prefix=prefix)
            else:
                from .database import DatabaseLimiter

                backend = DatabaseLimiter()
            _backends[url, prefix] = backend
    return backend


def acquire(rules: Sequence[Rule], amount: int = 1) -> Decision:
    """Admit `amount` under every rule, or nothing; see the module docstring."""
    return limiter().acquire(rules, amount)


def usage(rules: Sequence[Rule]) -> list[RuleUsage]:
    """Each rule's current use, in `rules`' order; read-only (see the module docstring)."""
    return limiter().usage(rules)

"""The egress gate: every DingTalk call from any process, of any app, under one egress-IP budget.

DingTalk allows one egress IP 10,000 calls per 20 s across all APIs, then bans it for five
minutes (PROTOCOL 10). Sends take the budget in their own acquire, but token fetches, polls,
directory reads and the API's proxies call DingTalk too; so the budget is taken per request, in
the transport (tenants.services.clients registers this gate on every transport it builds).

A caller that takes the egress budget in its own acquire (a send with its recipients, a poll
with its per-API call) says so with `egress_prepaid(path)`: the gate then lets its one request
to that path through without a second acquire. (A retry of it, or any other request meanwhile,
such as a token fetch, takes the gate as usual.)

A refusal raises dingtalk.errors.EgressLimited (a RateLimited: callers back off as from a
throttle; nothing left). When the limiter cannot answer (Redis down or hung) the gate lets the
call through: 10,000 per 20 s is far from what one deployment does in normal operation, and
failing closed here would stop token fetches and callbacks with Redis, which everything else
survives. Sends still fail closed in their own acquire.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings

from dingtalk.errors import EgressLimited

from . import acquire
from .rules import egress_rule

logger = logging.getLogger("messaging.limiter.egress")

# The path whose next request this context already paid for (see the module docstring).
_prepaid: ContextVar[str | None] = ContextVar("egress_prepaid", default=None)


def egress_gate_active() -> bool:
    """The gate runs with the Redis limiter only: on the database backend a limiter
    transaction per DingTalk request (token fetches included) costs more than the budget is
    worth to a deployment without Redis; there, sends take the egress rule in their own
    acquire instead (messaging/services/sending.py)."""
    return bool(settings.MESSAGING_EGRESS_GATE and settings.REDIS_URL)


@contextlib.contextmanager
def egress_prepaid(path: str) -> Iterator[None]:
    """The caller's acquire took the egress budget for one request to `path`: the gate lets the
    first request to it in this block through without taking it again."""
    token = _prepaid.set(path.lstrip("/"))
    try:
        yield
    finally:
        _prepaid.reset(token)


def egress_gate(method: str, path: str) -> None:
    """Take one call of the egress budget, or raise EgressLimited; see the module docstring."""
    if not egress_gate_active():
        return
    if _prepaid.get() == path.lstrip("/"):
        _prepaid.set(None)  # once: a retry of the request takes the budget again
        return
    decision = acquire([egress_rule()], 1)
    if decision.allowed:
        return
    if decision.unavailable:
        logger.debug("egress budget unknown (limiter unavailable); %s %s let through", method,
                     path)
        return
    logger.warning("egress budget spent: %s %s held back %.1f s", method, path,
                   decision.retry_after_s)
    raise EgressLimited(decision.retry_after_s, path=path)

"""Callback events the apps above tenants act on: market orders (commerce), contact rows
(directory). tenants keeps every event in its inbox and runs it through its claim, retry and
lease machinery; for the kinds an app registered here, it hands the parsed event to that app.

An app registers in its AppConfig.ready():

    from tenants.event_receivers import receive
    receive("market_order", commerce_market_event)

A receiver is called as `receiver(event=<CallbackEvent>, parsed=<dingtalk.events.Event>)` inside
the event's processing (a Celery worker, no transaction open) and returns (status, note) like
tenants' own handlers, or None for DONE. It must be idempotent (a retried or re-delivered event
runs it again); dingtalk errors and ServiceErrors it raises are recorded by the inbox, and a
retryable one is retried with backoff. With several receivers for a kind, every one runs, in
registration order, and the event is IGNORED only if all of them ignored it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Receiver = Callable[..., Any]
_RECEIVERS: dict[str, list[Receiver]] = {}


def receive(kind: str, receiver: Receiver) -> None:
    """Hand events of this kind to `receiver` (registering the same one twice is harmless)."""
    receivers = _RECEIVERS.setdefault(kind, [])
    if receiver not in receivers:
        receivers.append(receiver)


def receivers_for(kind: str) -> tuple[Receiver, ...]:
    return tuple(_RECEIVERS.get(kind, ()))

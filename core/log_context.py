"""What every log line of the current request or task carries: its request id, its tenant, its
Celery task. Context variables, so threads and tasks never see another's values."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                         default=None)
_tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)
_task: contextvars.ContextVar[str | None] = contextvars.ContextVar("task", default=None)


def current() -> dict[str, str]:
    """The context's non-empty fields: request_id, tenant (a corp id), task (name[id])."""
    values = {"request_id": _request_id.get(), "tenant": _tenant.get(), "task": _task.get()}
    return {key: value for key, value in values.items() if value}


def set_tenant(corp_id: str | None) -> None:
    """Name the tenant the rest of this request or task acts for (cleared with its scope)."""
    _tenant.set(corp_id)


@contextmanager
def scope(*, request_id: str | None = None, task: str | None = None) -> Iterator[None]:
    """A request's or a task's context; everything set inside is undone on the way out."""
    tokens = [_request_id.set(request_id), _task.set(task), _tenant.set(None)]
    try:
        yield
    finally:
        for var, token in zip((_request_id, _task, _tenant), tokens, strict=True):
            var.reset(token)


def set_task(task: str | None) -> None:
    """Name the Celery task a worker thread runs (None when it is done): the task signals in
    config/celery.py call this around each task, and clear the tenant with it."""
    _task.set(task)
    _tenant.set(None)

"""Webhook endpoints: create (the secret is returned once), update, rotate the secret (the
previous one signing beside it for an overlap), delete.

Events, deliveries and the URL checks live beside this module (webhooks_events.py,
webhooks_delivery.py, webhooks_urls.py); docs/webhooks.md is what the ISV reads.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from api.models import WebhookEndpoint, WebhookEventType
from api.services.webhooks_errors import WebhookEndpointInvalid
from api.services.webhooks_urls import url_check
from core import clock
from tenants.models import Suite, Tenant

logger = logging.getLogger("api.webhooks")

SECRET_PREFIX = "whsec_"
_HINT_CHARS = 4
SECRET_OVERLAP_MAX_S = 7 * 24 * 3600  # a week: time to redeploy, not a second permanent secret


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once (creation, rotation); never logged

    def __repr__(self) -> str:
        return f"EndpointWithSecret({self.endpoint!r})"


def _new_secret() -> tuple[str, str]:
    value = f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}"
    return value, value[-_HINT_CHARS:]


def webhook_events_check(*, events: Iterable[str]) -> list[str]:
    """The event types as a sorted list without repeats; WebhookEndpointInvalid for unknown."""
    events = list(events or ())
    unknown = sorted({str(e) for e in events} - set(WebhookEventType.values))
    if unknown:
        raise WebhookEndpointInvalid("unknown event types", extra={
            "unknown": unknown, "known": list(WebhookEventType.values)})
    return sorted(set(events))


def webhook_endpoint_check(*, suite: Suite | None, app: Tenant | None, url: str,
                           events: Iterable[str]) -> list[str]:
    """Refuse what cannot be saved (the admin's form asks too); returns the clean events."""
    if (suite is None) == (app is None):
        raise WebhookEndpointInvalid("an endpoint belongs to exactly one suite or one "
                                     "internal app")
    if app is not None and app.kind != Tenant.Kind.INTERNAL_APP:
        raise WebhookEndpointInvalid("`app` must be an internal app; a suite's tenants are "
                                     "heard through an endpoint of the suite")
    clean = webhook_events_check(events=events)
    url_check(url)
    return clean


def webhook_endpoint_create(*, url: str, suite: Suite | None = None, app: Tenant | None = None,
                            events: Iterable[str] = (), description: str = "",
                            is_active: bool = True) -> EndpointWithSecret:
    """A new endpoint of a suite or an internal app, with a fresh secret (returned once)."""
    clean = webhook_endpoint_check(suite=suite, app=app, url=url, events=events)
    secret, hint = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        suite=suite, app=app, url=url, events=clean, description=(description or "")[:200],
        is_active=is_active, secret=secret, secret_hint=hint)
    logger.info("webhook endpoint %s created for %s", endpoint.pk, endpoint.owner_label)
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, url: str | None = None,
                            events: Iterable[str] | None = None, description: str | None = None,
                            is_active: bool | None = None) -> WebhookEndpoint:
    """Change what was given (a new URL is checked like a new endpoint's)."""
    fields = ["updated_at"]
    if url is not None:
        url_check(url)
        endpoint.url = url
        fields.append("url")
    if events is not None:
        endpoint.events = webhook_events_check(events=events)
        fields.append("events")
    if description is not None:
        endpoint.description = description[:200]
        fields.append("description")
    if is_active is not None:
        endpoint.is_active = is_active
        fields.append("is_active")
    endpoint.save(update_fields=fields)
    return endpoint


def webhook_secret_overlap_check(*, overlap_s: int | None) -> int:
    """Seconds the previous secret keeps signing after a rotation (the setting's when None);
    WebhookEndpointInvalid outside 0 to 7 days."""
    if overlap_s is None:
        overlap_s = settings.API_WEBHOOK_SECRET_OVERLAP_S
    if isinstance(overlap_s, bool) or not isinstance(overlap_s, int) or \
            not 0 <= overlap_s <= SECRET_OVERLAP_MAX_S:
        raise WebhookEndpointInvalid(
            f"overlap_s must be a whole number of seconds from 0 to {SECRET_OVERLAP_MAX_S}",
            extra={"overlap_s": [f"a whole number from 0 to {SECRET_OVERLAP_MAX_S}"]})
    return overlap_s


def webhook_secret_rotate(*, endpoint: WebhookEndpoint,
                          overlap_s: int | None = None) -> EndpointWithSecret:
    """A new secret; the one it replaces still signs beside it for `overlap_s` seconds
    (API_WEBHOOK_SECRET_OVERLAP_S when None; 0 drops it now). A rotation within an overlap
    drops the oldest: at most two secrets sign."""
    overlap = webhook_secret_overlap_check(overlap_s=overlap_s)
    secret, hint = _new_secret()
    now = clock.now()
    with transaction.atomic():
        current = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        previous = current.secret if overlap else ""
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            secret=secret, secret_hint=hint, secret_rotated_at=now, previous_secret=previous,
            previous_secret_expires_at=now + timedelta(seconds=overlap) if overlap else None)
    endpoint.refresh_from_db()
    logger.info("webhook endpoint %s: secret rotated (the previous one signs for %d s)",
                endpoint.pk, overlap)
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


def webhook_previous_secrets_drop(*, endpoint_id: int | None = None) -> int:
    """Empty the previous secrets whose overlap is over (one endpoint's, or every endpoint's:
    the sweep); how many were dropped."""
    expired = WebhookEndpoint.objects.filter(previous_secret_expires_at__lte=clock.now())
    if endpoint_id is not None:
        expired = expired.filter(pk=endpoint_id)
    dropped = expired.update(previous_secret="", previous_secret_expires_at=None)
    if dropped:
        logger.info("webhook endpoints: %d previous secrets dropped (overlap over)", dropped)
    return dropped


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their attempts (its events stay)."""
    pk = endpoint.pk
    endpoint.delete()
    logger.info("webhook endpoint %s deleted", pk)

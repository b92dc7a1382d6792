"""Webhook deliveries: claim, sign and POST one (no transaction around the request), record
the attempt; the sweep that queues due and lost ones; the admin's replay; the API's redeliver.

Retried (backoff with jitter, up to API_WEBHOOK_MAX_ATTEMPTS): 5xx, timeouts, connection
errors. Failed at once: 4xx, 3xx (redirects are not followed), an address that is not public.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.services.webhooks import webhook_previous_secrets_drop
from api.services.webhooks_errors import (
    WebhookDeliveryNotFinished,
    WebhookEndpointInactive,
    WebhookHostUnresolved,
    WebhookUrlRefused,
)
from api.services.webhooks_queue import deliveries_enqueue_on_commit, delivery_enqueue
from api.services.webhooks_urls import AddressRefused, checked_session, url_check
from core import clock

logger = logging.getLogger("api.webhooks")

Status = WebhookDelivery.Status
SIGNATURE_HEADER = "X-Dingsuite-Signature"
RESPONSE_BODY_KEPT = 1024
SWEEP_BATCH = 500


def payload_body(payload: dict) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(*, secrets: list[str], timestamp: int, body: bytes) -> str:
    """`t=<unix ts>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, one v1 per secret (the new
    one first; the previous one too during a rotation's overlap) (docs/webhooks.md)."""
    signed = f"{timestamp}.".encode("ascii") + body
    macs = [hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
            for secret in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={mac}" for mac in macs)])


def _signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The endpoint's secrets that sign now; a previous one found expired is dropped for good."""
    current = endpoint.signing_secrets(clock.now())
    if endpoint.previous_secret and len(current) == 1:
        webhook_previous_secrets_drop(endpoint_id=endpoint.pk)
    return current


@dataclass(frozen=True)
class Outcome:
    status: int | None = None
    body: str = ""
    error: str = ""
    retry: bool = False
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take the delivery for one attempt (a lease); None when it is not due or someone has it."""
    now = clock.now()
    lease = now + timedelta(seconds=settings.API_WEBHOOK_LEASE_S)
    taken = (WebhookDelivery.objects
             .filter(pk=delivery_id, status__in=WebhookDelivery.OPEN, next_attempt_at__lte=now)
             .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
             .update(lease_expires_at=lease, attempts=F("attempts") + 1))
    if not taken:
        return None
    return (WebhookDelivery.objects.select_related("event", "endpoint")
            .filter(pk=delivery_id, lease_expires_at=lease).first())


def _post(delivery: WebhookDelivery) -> Outcome:
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.is_active:
        return Outcome(error="the endpoint is inactive")
    body = payload_body(event.payload)
    headers = {"Content-Type": "application/json", "User-Agent": "dingsuite-webhooks/1",
               "X-Dingsuite-Event": event.event_type, "X-Dingsuite-Event-Id": str(event.event_id),
               "X-Dingsuite-Delivery-Id": str(delivery.pk),
               SIGNATURE_HEADER: signature(secrets=_signing_secrets(endpoint),
                                           timestamp=int(clock.time()), body=body)}
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        url_check(endpoint.url)  # again now: the name may resolve elsewhere than at creation
        with checked_session() as session:
            response = session.post(
                endpoint.url, data=body, headers=headers, allow_redirects=False, stream=True,
                timeout=(settings.API_WEBHOOK_CONNECT_TIMEOUT_S,
                         settings.API_WEBHOOK_READ_TIMEOUT_S))
            try:
                text = (response.raw.read(RESPONSE_BODY_KEPT, decode_content=True)
                        .decode("utf-8", "replace"))
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError,
                    ValueError):
                text = ""  # the status line is the answer; a body cut short changes nothing
            finally:
                response.close()
    except WebhookHostUnresolved:
        return Outcome(error="the host cannot be resolved", retry=True, duration_ms=took())
    except (WebhookUrlRefused, AddressRefused) as exc:
        return Outcome(error=f"refused: {exc}", duration_ms=took())
    except requests.Timeout:
        return Outcome(error="timed out", retry=True, duration_ms=took())
    except requests.RequestException as exc:
        return Outcome(error=f"connection failed: {type(exc).__name__}", retry=True,
                       duration_ms=took())
    code = response.status_code
    if 300 <= code < 400:
        return Outcome(status=code, body=text, error="redirects are not followed",
                       duration_ms=took())
    return Outcome(status=code, body=text, retry=code >= 500, duration_ms=took())


def backoff_s(attempts: int) -> float:
    """Seconds before the next try after `attempts` tries: doubling, capped, 50-100% jitter."""
    full = min(settings.API_WEBHOOK_RETRY_MAX_S,
               settings.API_WEBHOOK_RETRY_BASE_S * 2 ** max(attempts - 1, 0))
    return full * random.uniform(0.5, 1.0)  # noqa: S311 (spreading retries, not a secret)


def _record(delivery: WebhookDelivery, outcome: Outcome, attempted_at) -> str:
    now = clock.now()
    described = outcome.error or f"HTTP {outcome.status}"
    fields: dict = {"lease_expires_at": None, "last_error": described}
    if outcome.ok:
        fields.update(status=Status.SUCCESS, finished_at=now, next_attempt_at=None,
                      last_error="")
    elif outcome.retry and delivery.attempts < settings.API_WEBHOOK_MAX_ATTEMPTS:
        fields.update(status=Status.RETRYING, queued_at=None,
                      next_attempt_at=now + timedelta(seconds=backoff_s(delivery.attempts)))
    else:
        if outcome.retry:
            fields["last_error"] = f"gave up after {delivery.attempts} attempts: {described}"
        fields.update(status=Status.FAILED, finished_at=now, next_attempt_at=None)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=attempted_at, duration_ms=outcome.duration_ms,
            response_status=outcome.status, response_body=outcome.body, error=outcome.error)
        # Only while the lease is still ours: a sweep that took the delivery back owns it now.
        WebhookDelivery.objects.filter(pk=delivery.pk,
                                       lease_expires_at=delivery.lease_expires_at).update(**fields)
    return fields.get("status", delivery.status)


def webhook_delivery_attempt(*, delivery_id: int) -> str | None:
    """One attempt of a due delivery; its new status, or None when it was not ours to try."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    attempted_at = clock.now()
    try:
        outcome = _post(delivery)
    except Exception as exc:  # recorded as a retryable failure, so the attempt limit applies
        logger.exception("webhook delivery %s: unexpected failure", delivery.pk)
        outcome = Outcome(error=f"unexpected failure: {type(exc).__name__}", retry=True)
    status = _record(delivery, outcome, attempted_at)
    logger.info("webhook delivery %s (%s, endpoint %s) attempt %d: %s %s -> %s", delivery.pk,
                delivery.event.event_type, delivery.endpoint_id, delivery.attempts,
                outcome.status, outcome.error, status)
    return status


def webhook_deliveries_sweep(*, limit: int = SWEEP_BATCH) -> int:
    """Queue deliveries that are due (a retry's time came) or lost (queued long ago and never
    claimed, or claimed by a worker whose lease ran out); how many were queued."""
    now = clock.now()
    requeue_before = now - timedelta(seconds=settings.API_WEBHOOK_REQUEUE_AFTER_S)
    ids = list(WebhookDelivery.objects
               .filter(status__in=WebhookDelivery.OPEN, next_attempt_at__lte=now)
               .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
               .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=requeue_before))
               .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(queued_at=now)
        for delivery_id in ids:
            delivery_enqueue(delivery_id=delivery_id)
    return len(ids)


def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A new delivery of the same event (same event id) to the same endpoint, queued now."""
    now = clock.now()
    with transaction.atomic():
        replay = WebhookDelivery.objects.create(
            event_id=delivery.event_id, endpoint_id=delivery.endpoint_id, replay_of=delivery,
            next_attempt_at=now, queued_at=now, created_at=now)
        deliveries_enqueue_on_commit(delivery_ids=[replay.pk])
    logger.info("webhook delivery %s replayed as %s", delivery.pk, replay.pk)
    return replay


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A finished delivery (failed, or succeeded) queued again now for a new round of attempts
    (the retry budget anew; its earlier attempts stay); 409 while it is pending or retrying, or
    when its endpoint is inactive."""
    if not delivery.endpoint.is_active:
        raise WebhookEndpointInactive("the endpoint is inactive: activate it to redeliver",
                                      extra={"endpoint_id": delivery.endpoint_id})
    now = clock.now()
    with transaction.atomic():
        # Conditional: two redeliveries at once queue it once; an open one is left alone.
        taken = (WebhookDelivery.objects
                 .filter(pk=delivery.pk, status__in=(Status.SUCCESS, Status.FAILED))
                 .update(status=Status.PENDING, attempts=0, next_attempt_at=now, queued_at=now,
                         lease_expires_at=None, finished_at=None, last_error=""))
        if not taken:
            raise WebhookDeliveryNotFinished(
                "this delivery is still pending or retrying: it will be attempted again",
                extra={"id": delivery.pk})
        deliveries_enqueue_on_commit(delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    logger.info("webhook delivery %s queued again (redeliver)", delivery.pk)
    return delivery

"""/metrics for Prometheus: the counters every process keeps (core/metrics.py, added up across
processes when PROMETHEUS_MULTIPROC_DIR is set) and gauges read at scrape time: callback events
by status, notifications by status and recipients by outcome (notifications of the last 24 h,
from their stored counts: no scan of the recipients table), the age of the oldest work waiting
(pending callback event, due send batch, due webhook delivery), and messages waiting per queue.

Open to whoever reaches it: expose it on an internal network only, or set METRICS_TOKEN and
scrape with `Authorization: Bearer <token>` (compared in constant time).
"""

from __future__ import annotations

import hmac
import os
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY

from core import clock


class DatabaseGauges:
    """Collected at each scrape (a handful of grouped queries)."""

    def collect(self):
        from api.models import WebhookDelivery
        from messaging.models import Notification, NotificationBatch
        from tenants.models import CallbackEvent

        now = clock.now()
        events = GaugeMetricFamily("dingsuite_callback_events", "Callback events by status",
                                   labels=["status"])
        for status, n in CallbackEvent.objects.values_list("status").annotate(Count("pk")):
            events.add_metric([status], n)
        yield events
        since = now - timedelta(hours=24)
        recent = Notification.objects.filter(created_at__gte=since)
        notifications = GaugeMetricFamily(
            "dingsuite_notifications_24h", "Notifications created in the last 24 h, by status",
            labels=["status"])
        outcomes: dict[str, int] = {}
        by_status: dict[str, int] = {}
        for status, counts in recent.values_list("status", "counts").iterator():
            by_status[status] = by_status.get(status, 0) + 1
            for outcome, n in (counts or {}).items():
                if isinstance(n, int):
                    outcomes[outcome] = outcomes.get(outcome, 0) + n
        for status, n in sorted(by_status.items()):
            notifications.add_metric([status], n)
        yield notifications
        recipients = GaugeMetricFamily(
            "dingsuite_recipients_24h",
            "Recipients of the last 24 h's notifications, by outcome", labels=["outcome"])
        for outcome, n in sorted(outcomes.items()):
            recipients.add_metric([outcome], n)
        yield recipients
        oldest = GaugeMetricFamily(
            "dingsuite_oldest_waiting_seconds",
            "Age of the oldest work that is due and not done, by kind", labels=["kind"])
        waiting = {
            "callback_event": CallbackEvent.objects.filter(
                status__in=(CallbackEvent.Status.PENDING, CallbackEvent.Status.FAILED),
                next_attempt_at__lte=now).aggregate(t=Min("next_attempt_at"))["t"],
            "send_batch": NotificationBatch.objects.filter(
                status=NotificationBatch.Status.PENDING, queued_at__isnull=False,
                next_attempt_at__lte=now).aggregate(t=Min("next_attempt_at"))["t"],
            "webhook_delivery": WebhookDelivery.objects.filter(
                status__in=WebhookDelivery.OPEN, next_attempt_at__lte=now)
            .aggregate(t=Min("next_attempt_at"))["t"],
        }
        for kind, since_at in waiting.items():
            oldest.add_metric([kind], (now - since_at).total_seconds() if since_at else 0.0)
        yield oldest


class QueueGauges:
    """Messages waiting in each Celery queue (Redis brokers: the list's length)."""

    def collect(self):
        from config.celery_routes import queue_names

        queues = GaugeMetricFamily("dingsuite_queue_messages",
                                   "Messages waiting in each Celery queue", labels=["queue"])
        broker = settings.CELERY_BROKER_URL or ""
        if broker.startswith(("redis://", "rediss://")):
            from core.redis import redis_client

            try:
                client = redis_client(broker)
                for name in queue_names(settings.CELERY_QUEUE_PREFIX):
                    queues.add_metric([name], client.llen(name))
            except Exception:  # noqa: S110  (an unreachable broker: no figures, /readyz says why)
                pass
        yield queues


def _exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    read = CollectorRegistry()
    read.register(DatabaseGauges())
    read.register(QueueGauges())
    # Two registries, distinct metric names: their texts concatenate into one valid page.
    return generate_latest(counted) + generate_latest(read)


def metrics(request):
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("metrics need the bearer token\n", status=401,
                                content_type="text/plain")
    return HttpResponse(_exposition(), content_type=CONTENT_TYPE_LATEST)

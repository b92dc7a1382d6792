"""The daily purge: each kind of row goes after its retention, in small batches, and nothing
that still has work ahead of it is ever purged."""

from datetime import date, timedelta

import pytest

from api.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from config.retention import retention_purge_all
from core import clock
from core.purge import purge_in_batches
from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient
from tenants.models import CallbackEvent, MonthlyCallCount, SuiteTicket
from tests.tenants.factories import (
    AccessTokenFactory,
    CallbackEventFactory,
    SuiteFactory,
    SuiteTicketFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db

Status = CallbackEvent.Status


def _aged(model, pks, days: float, field: str = "received_at") -> None:
    model.objects.filter(pk__in=pks).update(**{field: clock.now() - timedelta(days=days)})


def test_retention_events_only_finished_and_old_ones_go():
    suite = SuiteFactory()
    old_done = [CallbackEventFactory(suite=suite, status=s).pk
                for s in (Status.DONE, Status.IGNORED)]
    old_open = [CallbackEventFactory(suite=suite, status=s).pk
                for s in (Status.PENDING, Status.FAILED, Status.DEAD, Status.PROCESSING,
                          Status.AWAITING_REAUTH)]
    recent_done = CallbackEventFactory(suite=suite, status=Status.DONE).pk
    _aged(CallbackEvent, old_done + old_open, days=31)
    counts = retention_purge_all()
    assert counts["callback_events"] == 2
    left = set(CallbackEvent.objects.values_list("pk", flat=True))
    assert left == {*old_open, recent_done}


def test_retention_tickets_keep_the_newest_five_per_suite():
    busy, quiet = SuiteFactory(), SuiteFactory()
    busy_tickets = [SuiteTicketFactory(suite=busy, pushed_at_ms=1_000 + i).pk for i in range(8)]
    quiet_tickets = [SuiteTicketFactory(suite=quiet, pushed_at_ms=1_000 + i).pk
                     for i in range(3)]
    _aged(SuiteTicket, busy_tickets + quiet_tickets, days=30)
    retention_purge_all()
    assert sorted(SuiteTicket.objects.filter(suite=busy).values_list("pk", flat=True)) == \
        sorted(busy_tickets[3:])
    assert SuiteTicket.objects.filter(suite=quiet).count() == 3


def test_retention_recipients_of_long_finished_notifications_go_the_notification_stays():
    tenant = TenantFactory()
    old, recent, running = (Notification.objects.create(
        tenant=tenant, msg={"msgtype": "text", "text": {"content": "x"}}, status=s,
        userids=["u1", "u2"],
        completed_at=clock.now() if s != Notification.Status.SENDING else None)
        for s in (Notification.Status.COMPLETED, Notification.Status.COMPLETED,
                  Notification.Status.SENDING))
    for n in (old, recent, running):
        batch = NotificationBatch.objects.create(notification=n, tenant=tenant, seq=1,
                                                 userids=["u1", "u2"])
        Recipient.objects.bulk_create(Recipient(notification=n, tenant=tenant, userid=u,
                                                batch=batch) for u in ("u1", "u2"))
    _aged(Notification, [old.pk], days=31, field="completed_at")
    counts = retention_purge_all()
    assert counts["recipients"] == 2 and counts["batches"] == 1
    assert not Recipient.objects.filter(notification=old).exists()
    assert Recipient.objects.filter(notification=recent).count() == 2
    assert Recipient.objects.filter(notification=running).count() == 2
    assert Notification.objects.filter(pk=old.pk).exists()


def test_retention_ledger_days_long_past_go():
    tenant = TenantFactory()
    today = clock.now().date()
    for day in (today, today - timedelta(days=3), today - timedelta(days=8)):
        LedgerEntry.objects.create(tenant=tenant, day=day, userid="u1", content_digest="d")
    assert retention_purge_all()["ledger_entries"] == 1
    assert sorted(LedgerEntry.objects.values_list("day", flat=True)) == [
        today - timedelta(days=3), today]


def test_retention_webhook_events_with_an_open_delivery_stay():
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    endpoint = WebhookEndpoint.objects.create(suite=suite, url="https://example.com/hook",
                                              secret="s" * 32)
    events = []
    for status in (WebhookDelivery.Status.SUCCESS, WebhookDelivery.Status.FAILED,
                   WebhookDelivery.Status.RETRYING):
        event = WebhookEvent.objects.create(
            tenant=tenant, event_type="tenant.authorized", payload={},
            created_at=clock.now() - timedelta(days=40))
        WebhookDelivery.objects.create(event=event, endpoint=endpoint, status=status,
                                       created_at=event.created_at)
        events.append(event)
    assert retention_purge_all()["webhook_events"] == 2
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [events[2].pk]


def test_retention_old_counts_and_tokens_go():
    tenant = TenantFactory()
    MonthlyCallCount.objects.create(tenant=tenant, month=date(2020, 1, 1), calls=3)
    MonthlyCallCount.objects.create(tenant=tenant, month=clock.now().date().replace(day=1))
    AccessTokenFactory(tenant=tenant, expires_at=clock.now() - timedelta(days=8))
    counts = retention_purge_all()
    assert counts["monthly_call_counts"] == 1 and counts["access_tokens"] == 1


def test_retention_deletes_in_batches_and_a_second_run_finds_nothing():
    suite = SuiteFactory()
    pks = [CallbackEventFactory(suite=suite, status=Status.DONE).pk for _ in range(5)]
    _aged(CallbackEvent, pks, days=31)
    events = CallbackEvent.objects.filter(pk__in=pks)
    assert purge_in_batches(events, batch_size=2, max_batches=2) == 4
    assert events.count() == 1
    assert retention_purge_all(batch_size=2)["callback_events"] == 1
    assert retention_purge_all()["callback_events"] == 0


def test_retention_admin_sso_assertions_go_a_month_after_they_expired():
    from identity.models import AdminSsoAssertion, AdminSsoCredential

    credential = AdminSsoCredential.objects.create(corp_id="dingisvretention", sso_secret="s",
                                                   landing_url="https://product.example/")
    now = clock.now()

    def assertion(digest: str, expired_days_ago: float, redeemed: bool) -> int:
        expires = now - timedelta(days=expired_days_ago)
        return AdminSsoAssertion.objects.create(
            credential=credential, digest=digest, userid="admin1", corp_id="dingcustomer",
            issued_at=expires - timedelta(minutes=2), expires_at=expires,
            redeemed_at=expires if redeemed else None).pk

    old = [assertion("a" * 64, 31, True), assertion("b" * 64, 40, False)]
    kept = [assertion("c" * 64, 29, True), assertion("d" * 64, -0.001, False)]
    counts = retention_purge_all()
    assert counts["sso_admin_assertions"] == len(old)
    assert set(AdminSsoAssertion.objects.values_list("pk", flat=True)) == set(kept)

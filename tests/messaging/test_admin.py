"""The messaging admin as a superuser (and as a viewer): notifications with progress and counts,
filters that need no list of tenants, and the recall and resend actions on real rows, sent to
the emulator over HTTP."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import constants
from django.urls import reverse

from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.notifications import notification_create
from messaging.services.polling import batch_poll
from messaging.services.sending import batch_send
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, outcomes, text

pytestmark = pytest.mark.django_db

Outcome = Recipient.Outcome
NStatus = Notification.Status
_SEND = "topapi/message/corpconversation/asyncsend_v2"



@pytest.fixture(autouse=True)
def _no_corp_wide_limit(settings):
    """The emulator's reset gives every test's first corp the same id, so the limiter's
    corp-wide window (143104) would carry this run's earlier sends into the next test; these
    tests are not about pacing."""
    settings.MESSAGING_LIMIT_CORP_PER_MINUTE = 0

def _deliver(emulator, n: Notification) -> Notification:
    for b in NotificationBatch.objects.filter(notification=n).order_by("seq"):
        batch_send(batch_id=b.pk)
    advance_time(emulator, 1)
    for b in NotificationBatch.objects.filter(notification=n, status=NotificationBatch.Status.SENT):
        batch_poll(batch_id=b.pk)
    return Notification.objects.get(pk=n.pk)


@pytest.fixture
def world(emulator, make_app):
    """Tenant A: a partially failed notification (its first batch refused) and a completed one;
    tenant B, another corp: a notification not planned yet."""
    tenant_a, _, _ = make_app(users=150)
    emulator.add_fault(_SEND, errcode=40035, count=1)
    partial = _deliver(emulator, create_and_plan(tenant_a, to_all_user=True, msg=text("a")))
    completed = _deliver(emulator, create_and_plan(tenant_a, to_all_user=True, msg=text("b")))
    tenant_b, _, _ = make_app(users=5)
    accepted = notification_create(tenant=tenant_b, to_all_user=True, msg=text("c"))
    assert (partial.status, completed.status) == (NStatus.PARTIALLY_FAILED, NStatus.COMPLETED)
    return {"a": tenant_a, "b": tenant_b, "partial": partial, "completed": completed,
            "accepted": accepted}


def _url(name: str, *args) -> str:
    return reverse(f"admin:messaging_{name}", args=args)


def _listed(admin_client, url: str) -> list:
    response = admin_client.get(url)
    assert response.status_code == 200, url
    return list(response.context["cl"].result_list)


def test_admin_pages_render(admin_client, world):
    partial = world["partial"]
    batch = NotificationBatch.objects.filter(notification=partial).first()
    recipient = Recipient.objects.filter(notification=partial).first()
    for url in (
        _url("notification_changelist"),
        _url("notification_changelist") + "?status__exact=partially_failed&tenant__kind__exact"
                                          "=internal_app",
        _url("notification_change", partial.pk),
        _url("notification_change", world["accepted"].pk),
        _url("notificationbatch_changelist") + f"?notification={partial.pk}",
        _url("notificationbatch_change", batch.pk),
        _url("recipient_changelist") + f"?notification={partial.pk}&outcome__exact=failed"
                                       "&code=143105",
        _url("recipient_change", recipient.pk),
        _url("ledgerentry_changelist") + f"?corp_id={world['a'].corp_id}",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_admin_notification_list_shows_progress_and_counts(admin_client, world):
    partial = world["partial"]
    html = admin_client.get(_url("notification_changelist")).content.decode()
    total = partial.recipient_count
    # A finished notification: every recipient has a final outcome.
    assert f'<progress value="{total}" max="{total}"' in html
    failed = partial.counts[Outcome.FAILED]
    recipients = _url("recipient_changelist")
    assert (f'<a href="{recipients}?notification={partial.pk}&amp;outcome__exact=failed">'
            f"failed: {failed}</a>") in html
    # Sent, not polled yet: only the inactive (never sent) have a final outcome.
    tenant_b = world["b"]
    sent = create_and_plan(tenant_b, to_all_user=True, msg=text("open"))
    for b in NotificationBatch.objects.filter(notification=sent):
        batch_send(batch_id=b.pk)
    sent.refresh_from_db()
    final = sent.counts.get(Outcome.INACTIVE, 0)
    assert sent.counts[Outcome.SENT] > 0
    html = admin_client.get(_url("notification_changelist")).content.decode()
    assert (f'<progress value="{final}" max="{sent.recipient_count}" title="{final} of '
            f'{sent.recipient_count} recipients have a final outcome">') in html
    detail = admin_client.get(_url("notification_change", partial.pk)).content.decode()
    assert f"{recipients}?notification={partial.pk}" in detail and "its batches" in detail
    assert f"{total} userids" not in detail  # to_all_user: no userids named
    assert "to_all_user" in detail


def test_admin_filters_by_corp_and_notification_without_listing_them(admin_client, world):
    base = _url("notification_changelist")
    a, b = world["a"], world["b"]
    assert set(_listed(admin_client, f"{base}?corp_id={a.corp_id}")) == {
        world["partial"], world["completed"]}
    assert _listed(admin_client, f"{base}?corp_id={b.corp_id}") == [world["accepted"]]
    html = admin_client.get(f"{base}?corp_id={b.corp_id}&status__exact=accepted").content.decode()
    # The typed value is kept, and the other filters ride along hidden.
    assert f'name="corp_id" value="{b.corp_id}"' in html
    assert '<input type="hidden" name="status__exact" value="accepted">' in html
    partial = world["partial"]
    recipients = _url("recipient_changelist")
    failed = _listed(admin_client, f"{recipients}?notification={partial.pk}&outcome__exact=failed")
    assert {r.userid for r in failed} == {u for u, (o, _) in outcomes(partial).items()
                                          if o == Outcome.FAILED}
    assert _listed(admin_client, f"{recipients}?code=40035") == failed
    assert _listed(admin_client, f"{recipients}?notification=not-a-number") == []


def _action(client, action: str, objects) -> list[tuple[int, str]]:
    data = {"action": action, "_selected_action": [obj.pk for obj in objects]}
    response = client.post(_url("notification_changelist"), data, follow=True)
    assert response.status_code == 200
    return [(m.level, str(m.message)) for m in response.context["messages"]]


def test_admin_recall_reports_each_notification(admin_client, emulator, world):
    completed, accepted, partial = world["completed"], world["accepted"], world["partial"]
    Notification.objects.filter(pk=accepted.pk).update(status=NStatus.CANCELLED)

    got = _action(admin_client, "recall", [completed, accepted])

    recalled = completed.counts[Outcome.UNREAD]
    assert (constants.SUCCESS,
            f"Notification {completed.pk}: recalled ({recalled} recipients).") in got
    assert (constants.ERROR, f"Notification {accepted.pk}: the notification is already "
                             "cancelled (notification_not_recallable)") in got
    assert len(got) == 2
    assert Notification.objects.get(pk=completed.pk).status == NStatus.RECALLED
    for task_id in NotificationBatch.objects.filter(notification=completed).values_list(
            "task_id", flat=True):
        assert emulator.task(task_id)["recalled"] is True
    assert Notification.objects.get(pk=partial.pk).status == NStatus.PARTIALLY_FAILED


def test_admin_resend_failed_makes_one_resend_and_refuses_clearly(admin_client, world):
    partial, completed = world["partial"], world["completed"]
    failed = partial.counts[Outcome.FAILED]

    got = _action(admin_client, "resend_failed", [partial, completed])

    resend = Notification.objects.get(idempotency_key=f"resend-failed:{partial.pk}")
    link = _url("notification_change", resend.pk)
    assert (constants.SUCCESS, f'Notification {partial.pk}: {failed} failed recipient(s) resent '
            f'as <a href="{link}">notification {resend.pk}</a> (accepted).') in got
    assert any(level == constants.ERROR and text.startswith(f"Notification {completed.pk}: ")
               and text.endswith("(nothing_to_resend)") for level, text in got)
    assert len(resend.userids) == failed
    _action(admin_client, "resend_failed", [partial])  # pressed again: still one resend
    assert Notification.objects.filter(idempotency_key__startswith="resend-failed:").count() == 1


def test_admin_viewer_sees_notifications_but_no_actions(client, world):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="messaging", codename__startswith="view_"))
    client.force_login(viewer)
    response = client.get(_url("notification_changelist"))
    assert response.status_code == 200
    assert 'value="recall"' not in response.content.decode()
    _action(client, "recall", [world["completed"]])
    assert Notification.objects.get(pk=world["completed"].pk).status == NStatus.COMPLETED

"""/api/v1/tenants/<corp_id>/notifications/: create (Idempotency-Key), list, detail, recipients,
recall and cancel, against the emulator over HTTP with the session's real Celery worker."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from core import clock
from messaging.models import Notification, NotificationBatch, Recipient
from tenants.models import Tenant
from tests.api.conftest import key_client
from tests.tenants.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Outcome = Recipient.Outcome
NStatus = Notification.Status
_SEND = "topapi/message/corpconversation/asyncsend_v2"
_RECALL = "topapi/message/corpconversation/recall"


def _text(content: str = "hello") -> dict:
    return {"msgtype": "text", "text": {"content": content}}


def _url(tenant, *parts) -> str:
    tail = "".join(f"{p}/" for p in parts)
    return f"/api/v1/tenants/{tenant.corp_id}/notifications/{tail}"


def _finished(client, tenant, pk: int, *statuses: str) -> dict:
    def done():
        body = client.get(_url(tenant, pk)).json()
        return body if body["status"] in statuses else None
    return wait_for(done, timeout=60, what=f"notification {pk} {statuses}")


def test_notifications_create_sends_and_detail_shows_progress_and_counts(
        celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=30)
    client = key_client(key)
    response = client.post(_url(tenant), {"userid_list": corp["userids"][:12],
                                          "msg": _text("api")}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == NStatus.ACCEPTED and created["userid_list"] == corp["userids"][:12]
    assert created["progress"]["total"] == 0 and created["progress"]["percent"] == 0
    body = _finished(client, tenant, created["id"], NStatus.COMPLETED, NStatus.PARTIALLY_FAILED)
    assert body["progress"] == {"total": 1, "sent": 1, "failed": 0, "pending": 0,
                                "cancelled": 0, "percent": 100}
    assert sum(body["counts"].values()) == 12 == body["recipient_count"]
    assert emulator.counters()["calls"][_SEND] == 1
    (batch,) = NotificationBatch.objects.filter(notification_id=created["id"])
    unread = emulator.task(batch.task_id)["send_result"]["unread_user_id_list"]
    assert body["counts"].get(Outcome.UNREAD, 0) == len(unread) > 0


def test_notifications_recipients_page_by_cursor_and_filter_by_outcome(
        celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=30)
    client = key_client(key)
    users = [*corp["userids"][:7], "nobody-here"]
    pk = client.post(_url(tenant), {"userid_list": users, "msg": _text()},
                     format="json").json()["id"]
    _finished(client, tenant, pk, NStatus.PARTIALLY_FAILED, NStatus.COMPLETED)
    seen, url = [], _url(tenant, pk, "recipients") + "?page_size=3"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 3
        seen += page["results"]
        url = page["next"]
    assert [r["userid"] for r in seen] == users  # planning order, each once
    invalid = client.get(_url(tenant, pk, "recipients") + "?outcome=invalid_user").json()
    assert [r["userid"] for r in invalid["results"]] == ["nobody-here"]
    bad = client.get(_url(tenant, pk, "recipients") + "?outcome=nonsense")
    assert bad.status_code == 400 and "outcome" in bad.json()["error"]["details"]
    assert client.get(_url(tenant, 999999, "recipients")).status_code == 404


def test_notifications_list_filters_by_status_and_creation_time(celery_worker, make_app_side):
    tenant, corp, key = make_app_side(users=5)
    client = key_client(key)
    ids = [client.post(_url(tenant), {"userid_list": corp["userids"][:1], "msg": _text(str(i))},
                       format="json").json()["id"] for i in range(3)]
    for pk in ids:  # finished first: nothing moves their status while the test sets one
        _finished(client, tenant, pk, NStatus.COMPLETED, NStatus.PARTIALLY_FAILED)
    Notification.objects.filter(pk=ids[0]).update(status=NStatus.CANCELLED,
                                                  created_at=clock.now() - timedelta(days=2))
    everything = client.get(_url(tenant) + "?page_size=2").json()
    assert [n["id"] for n in everything["results"]] == ids[:0:-1]
    rest = client.get(everything["next"]).json()
    assert [n["id"] for n in rest["results"]] == [ids[0]] and rest["next"] is None
    cancelled = client.get(_url(tenant) + "?status=cancelled").json()["results"]
    assert [n["id"] for n in cancelled] == [ids[0]]
    since = (clock.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    recent = client.get(_url(tenant), {"created_after": since}).json()["results"]
    assert sorted(n["id"] for n in recent) == ids[1:]
    older = client.get(_url(tenant), {"created_before": since}).json()["results"]
    assert [n["id"] for n in older] == [ids[0]]
    bad = client.get(_url(tenant) + "?created_after=yesterday")
    assert bad.status_code == 400 and "created_after" in bad.json()["error"]["details"]


def test_notifications_idempotency_key_replays_the_first_and_refuses_another_body(
        celery_worker, make_app_side):
    tenant, corp, key = make_app_side(users=5)
    client = key_client(key)
    body = {"userid_list": corp["userids"][:2], "msg": _text("once")}
    first = client.post(_url(tenant), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(_url(tenant), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = client.post(_url(tenant), {**body, "msg": _text("twice")}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert other.json()["error"]["details"]["notification_id"] == first.json()["id"]
    assert Notification.objects.filter(tenant=tenant).count() == 1
    # Without a key, or with another, the same body is a new notification.
    assert client.post(_url(tenant), body, format="json").status_code == 201
    too_long = client.post(_url(tenant), body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 129)
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "idempotency_key_invalid"
    assert Notification.objects.filter(tenant=tenant).count() == 2


def test_notifications_concurrent_requests_with_one_key_make_one_notification(
        celery_worker, make_app_side):
    tenant, corp, key = make_app_side(users=5)
    body = {"userid_list": corp["userids"][:3], "msg": _text("race")}
    answers, start = [], threading.Barrier(6)

    def post():
        try:
            start.wait()
            answers.append(key_client(key).post(_url(tenant), body, format="json",
                                                HTTP_IDEMPOTENCY_KEY="race-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert Notification.objects.filter(tenant=tenant).count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"msg": {"msgtype": "text", "text": {"content": "x"}}}, "userid_list"),
    ({"userid_list": ["u1"]}, "msg"),
    ({"userid_list": "u1,u2", "msg": {"msgtype": "text", "text": {"content": "x"}}},
     "userid_list"),
    ({"dept_id_list": [0], "msg": {"msgtype": "text", "text": {"content": "x"}}},
     "dept_id_list"),
    ({"userid_list": ["u1"], "msg": {"msgtype": "text", "text": {"content": "x"}},
      "to_all_user": "maybe"}, "to_all_user"),
])
def test_notifications_invalid_input_is_400_with_field_errors_and_writes_nothing(
        make_app_side, body, field):
    tenant, _, key = make_app_side(users=5)
    response = key_client(key).post(_url(tenant), body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]
    assert not Notification.objects.exists()


def test_notifications_a_message_dingtalk_would_refuse_is_400_before_any_call(
        emulator, make_app_side):
    tenant, corp, key = make_app_side(users=5)
    client = key_client(key)
    bad = client.post(_url(tenant), {"userid_list": corp["userids"][:1],
                                     "msg": {"msgtype": "text", "text": {}}}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "message_invalid"
    nul = client.post(_url(tenant), {"userid_list": ["a\x00b"], "msg": _text()}, format="json")
    assert nul.status_code == 400
    assert not Notification.objects.exists()
    assert emulator.counters()["calls"].get(_SEND, 0) == 0


def test_notifications_to_all_user_of_a_suite_is_409(make_suite_side):
    side = make_suite_side(tenants=1)
    tenant = side.tenants[0]
    response = side.client.post(_url(tenant), {"to_all_user": True, "msg": _text()},
                                format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "to_all_user_internal_apps_only"


def test_notifications_inactive_tenant_is_409_and_its_history_stays_readable(
        celery_worker, make_app_side):
    tenant, corp, key = make_app_side(users=5)
    client = key_client(key)
    body = {"userid_list": corp["userids"][:1], "msg": _text()}
    pk = client.post(_url(tenant), body, format="json", HTTP_IDEMPOTENCY_KEY="before").json()["id"]
    Tenant.objects.filter(pk=tenant.pk).update(suspended=True)  # an operator suspended it
    refused = client.post(_url(tenant), {**body, "msg": _text("later")}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "tenant_inactive"
    replay = client.post(_url(tenant), body, format="json", HTTP_IDEMPOTENCY_KEY="before")
    assert replay.status_code == 200 and replay.json()["id"] == pk
    assert client.get(_url(tenant, pk)).status_code == 200
    assert Notification.objects.filter(tenant=tenant).count() == 1


def test_notifications_recall_withdraws_the_sent_tasks(celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=10)
    client = key_client(key)
    pk = client.post(_url(tenant), {"userid_list": corp["userids"][:5], "msg": _text()},
                     format="json").json()["id"]
    _finished(client, tenant, pk, NStatus.COMPLETED, NStatus.PARTIALLY_FAILED)
    emulator.add_fault(_RECALL, errcode=88, count=1)  # DingTalk busy once: the recall fails
    failed = client.post(_url(tenant, pk, "recall"))
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "recall_failed"
    assert failed.json()["error"]["details"]["errcode"] == 88
    recalled = client.post(_url(tenant, pk, "recall"))
    assert recalled.status_code == 200, recalled.content
    assert recalled.json()["status"] == NStatus.RECALLED
    (batch,) = NotificationBatch.objects.filter(notification_id=pk)
    assert emulator.task(batch.task_id)["recalled"]
    again = client.post(_url(tenant, pk, "recall"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "notification_not_recallable"


def test_notifications_cancel_stops_what_is_unsent(celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=10)
    client = key_client(key)
    emulator.add_fault(_SEND, errcode=90018)  # DingTalk throttles: the batch waits, pending
    pk = client.post(_url(tenant), {"userid_list": corp["userids"][:4], "msg": _text()},
                     format="json").json()["id"]
    wait_for(lambda: NotificationBatch.objects.filter(
        notification_id=pk, status=NotificationBatch.Status.PENDING,
        last_error__contains="RateLimited").exists(), timeout=30, what="a throttled batch")
    cancelled = client.post(_url(tenant, pk, "cancel"))
    assert cancelled.status_code == 200, cancelled.content
    body = cancelled.json()
    assert body["status"] == NStatus.CANCELLED and body["counts"] == {Outcome.CANCELLED: 4}
    assert body["progress"]["cancelled"] == 1 and body["progress"]["percent"] == 100
    twice = client.post(_url(tenant, pk, "cancel"))
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "notification_not_cancellable"


def test_notifications_a_send_dingtalk_refuses_shows_failed_with_its_errcode(
        celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=5)
    client = key_client(key)
    emulator.add_fault(_SEND, errcode=40035, count=1)  # an invalid-request refusal
    pk = client.post(_url(tenant), {"userid_list": corp["userids"][:2], "msg": _text()},
                     format="json").json()["id"]
    body = _finished(client, tenant, pk, NStatus.FAILED)
    assert body["progress"]["failed"] == 1 and body["counts"] == {Outcome.FAILED: 2}
    failed = client.get(_url(tenant, pk, "recipients") + "?outcome=failed").json()["results"]
    assert {r["code"] for r in failed} == {"40035"}


def test_notifications_another_tenants_notification_is_404(celery_worker, make_suite_side):
    side = make_suite_side(tenants=2)
    mine, theirs = side.tenants
    pk = side.client.post(_url(theirs), {"userid_list": side.corps[1]["userids"][:1],
                                         "msg": _text()}, format="json").json()["id"]
    for url in (_url(mine, pk), _url(mine, pk, "recipients")):
        response = side.client.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "notification_not_found"
    for action in ("recall", "cancel"):
        assert side.client.post(_url(mine, pk, action)).status_code == 404
    assert Notification.objects.get(pk=pk).status != NStatus.CANCELLED

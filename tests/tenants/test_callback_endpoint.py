"""POST /callbacks/<suite_key>/: accepted pushes, legacy URL checks, repeats and races."""

import json

import pytest

from dingtalk.crypto import CREATE_SUITE_KEY
from tenants.models import CallbackEvent, SuiteTicket
from tenants.selectors.suites import suite_ticket_current
from tenants.services.callbacks import callback_receive

from .factories import SuiteFactory, random_text
from .pushes import http_ticket, post, push, reply_text, signed, sync_row, sync_rows, user_row

pytestmark = pytest.mark.django_db


# Accepted pushes ---------------------------------------------------------------------------


def test_callback_endpoint_http_ticket_applied_inline(client, django_capture_on_commit_callbacks):
    suite = SuiteFactory(http_push=True)
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, suite, http_ticket(suite, "ticket-one", 1_700_000_000_000))
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"
    assert suite_ticket_current(suite=suite) == "ticket-one"
    event = CallbackEvent.objects.get(suite=suite)
    assert (event.kind, event.status) == ("suite_ticket", CallbackEvent.Status.DONE)
    assert callbacks == []  # nothing left for Celery


def test_callback_endpoint_sync_ticket_row_applied_inline(client):
    suite = SuiteFactory()
    row = sync_row(suite, 2, suite.suite_id, {"syncAction": "suite_ticket",
                                              "suiteTicket": "sync-ticket"})
    response = push(client, suite, sync_rows(row))
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"
    assert suite_ticket_current(suite=suite) == "sync-ticket"


def test_callback_endpoint_older_ticket_does_not_replace_newer(client):
    suite = SuiteFactory(http_push=True)
    assert push(client, suite, http_ticket(suite, "newer", 2_000_000)).status_code == 200
    assert push(client, suite, http_ticket(suite, "older", 1_000_000)).status_code == 200
    assert suite_ticket_current(suite=suite) == "newer"
    assert SuiteTicket.objects.filter(suite=suite).count() == 2


def test_callback_endpoint_contact_row_stored_and_enqueued(
        client, django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, suite, {"EventType": "SYNC_HTTP_PUSH_MEDIUM",
                                        "bizData": [user_row(suite)]})
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"
    event = CallbackEvent.objects.get(suite=suite)
    assert (event.kind, event.status, event.corp_id) == (
        "contact_user", CallbackEvent.Status.PENDING, "dingcorp1")
    assert event.payload["biz_id"] == "user1"
    assert len(callbacks) == 1


def test_callback_endpoint_repeat_push_is_noop(client, django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    query, body = signed(suite, sync_rows(user_row(suite)))
    with django_capture_on_commit_callbacks() as first:
        assert post(client, suite.suite_key, query, body).status_code == 200
    with django_capture_on_commit_callbacks() as again:
        response = post(client, suite.suite_key, query, body)
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"
    assert CallbackEvent.objects.filter(suite=suite).count() == 1
    assert (len(first), len(again)) == (1, 0)


def test_callback_endpoint_repeat_of_same_row_reencrypted_is_noop(client):
    """DingTalk re-pushes with a new nonce and new ciphertext; the row is still the same."""
    suite = SuiteFactory()
    for _ in range(3):
        assert push(client, suite, sync_rows(user_row(suite))).status_code == 200
    assert CallbackEvent.objects.filter(suite=suite).count() == 1


def test_callback_endpoint_multi_row_push(client, django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    rows = [
        sync_row(suite, 2, suite.suite_id, {"syncAction": "suite_ticket", "suiteTicket": "t2"}),
        user_row(suite, "u1"),
        user_row(suite, "u2"),
        sync_row(suite, 14, "42", {"syncAction": "org_dept_create", "id": 42, "name": "R&D"}),
    ]
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, suite, sync_rows(*rows))
    assert response.status_code == 200
    assert suite_ticket_current(suite=suite) == "t2"
    kinds = sorted(CallbackEvent.objects.filter(suite=suite).values_list("kind", flat=True))
    assert kinds == ["contact_dept", "contact_user", "contact_user", "suite_ticket"]
    assert CallbackEvent.objects.filter(status=CallbackEvent.Status.PENDING).count() == 3
    assert len(callbacks) == 1  # one on_commit hook enqueues all three


def test_callback_endpoint_same_dedupe_key_per_suite_only(client):
    one, two = SuiteFactory(suite_id="1001"), SuiteFactory(suite_id="1001")
    for suite in (one, two):
        assert push(client, suite, sync_rows(user_row(suite))).status_code == 200
    assert CallbackEvent.objects.count() == 2


def test_callback_endpoint_accepts_msg_signature_alias(client):
    suite = SuiteFactory()
    query, body = signed(suite, sync_rows(user_row(suite)))
    response = post(client, suite.suite_key, query.replace("signature=", "msg_signature="), body)
    assert response.status_code == 200


# Legacy URL checks -------------------------------------------------------------------------


def test_callback_endpoint_check_url_replies_success(client):
    suite = SuiteFactory()
    response = push(client, suite, {"EventType": "check_url"})
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"


def test_callback_endpoint_check_update_suite_url_replies_random(client):
    suite = SuiteFactory(http_push=True)
    response = push(client, suite, {"EventType": "check_update_suite_url", "Random": "brdkKLMW",
                                    "TestSuiteKey": suite.suite_key})
    assert response.status_code == 200
    assert reply_text(suite, response) == "brdkKLMW"


def test_callback_endpoint_check_create_suite_url_uses_create_suite_key(
        client, django_capture_on_commit_callbacks):
    suite = SuiteFactory(http_push=True)
    payload = {"EventType": "check_create_suite_url", "Random": "LPIdSnlF",
               "TestSuiteKey": CREATE_SUITE_KEY}
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, suite, payload, key=CREATE_SUITE_KEY)
    assert response.status_code == 200
    assert reply_text(suite, response, key=CREATE_SUITE_KEY) == "LPIdSnlF"
    assert callbacks == []


def test_callback_endpoint_official_vector_a(client):
    """PROTOCOL 8.2 vector A, byte for byte, through the endpoint."""
    suite = SuiteFactory(callback_token="123456",
                         encoding_aes_key="4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij")
    encrypt = ("1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMei"
               "ZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUa"
               "thB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==")
    query = ("signature=5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0&timestamp=1445827045067"
             "&nonce=nEXhMP4r")
    response = post(client, suite.suite_key, query, {"encrypt": encrypt})
    assert response.status_code == 200
    assert reply_text(suite, response, key=CREATE_SUITE_KEY) == "LPIdSnlF"


def test_callback_endpoint_create_suite_key_only_for_the_create_check(client):
    suite = SuiteFactory(http_push=True)
    response = push(client, suite, http_ticket(suite, "sneaky", 1), key=CREATE_SUITE_KEY)
    assert response.status_code == 400
    assert SuiteTicket.objects.count() == 0


# Per-process suite cache -------------------------------------------------------------------


def test_callback_endpoint_secrets_rotated_elsewhere_still_accepted(client):
    """A process that cached the suite re-reads it before rejecting a push."""
    suite = SuiteFactory()
    assert push(client, suite, {"EventType": "check_url"}).status_code == 200  # now cached
    new_token, new_key = random_text(20), random_text(43)
    Suite = type(suite)
    # Another process rotates the secrets (bypassing this process's cache).
    rotated = Suite.objects.get(pk=suite.pk)
    rotated.callback_token, rotated.encoding_aes_key = new_token, new_key
    rotated.save()
    response = push(client, rotated, sync_rows(user_row(rotated)))
    assert response.status_code == 200
    assert reply_text(rotated, response) == "success"
    # And the old secrets are now refused.
    assert push(client, suite, sync_rows(user_row(suite, "u9"))).status_code == 403


def test_callback_endpoint_duplicate_rows_in_one_push_stored_once(
        client, django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    row = user_row(suite)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = push(client, suite, sync_rows(row, dict(row)))
    assert response.status_code == 200
    assert CallbackEvent.objects.filter(suite=suite).count() == 1
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_callback_endpoint_concurrent_repeats_store_one_row():
    """Eight deliveries of the same push at once: one event, one ticket, all replied success."""
    import threading

    from django.db import connection as thread_connection

    suite = SuiteFactory(http_push=True)
    query, body = signed(suite, http_ticket(suite, "raced-ticket", 42))
    params = dict(part.split("=", 1) for part in query.split("&"))
    barrier, replies, errors = threading.Barrier(8), [], []

    def deliver():
        try:
            barrier.wait(timeout=10)
            replies.append(callback_receive(suite_key=suite.suite_key, body=json.dumps(body)
                                            .encode(), **params))
        except Exception as exc:
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(replies) == 8
    assert CallbackEvent.objects.filter(suite=suite).count() == 1
    assert SuiteTicket.objects.filter(suite=suite).count() == 1
    assert suite_ticket_current(suite=suite) == "raced-ticket"

"""Logs: secrets scrubbed, one JSON object per line in production with the request id, tenant
and task, and, over a whole tenant lifecycle and a send, no secret in any log line of the web
process or the Celery worker."""

import json
import logging

import pytest

from api.services.keys import api_key_create
from config.log_format import JsonFormatter, ScrubSecrets, scrub
from core import log_context
from tenants.models import AccessToken, Tenant
from tenants.selectors.suites import suite_ticket_current
from tests.api.conftest import key_client
from tests.tenants.conftest import wait_for


@pytest.mark.parametrize(("text", "secret"), [
    ("GET /user/get?access_token=tok123abc&userid=u1", "tok123abc"),
    ("POST /service/get_corp_token?signature=c2lnbmF0dXJl%3D&timestamp=1", "c2lnbmF0dXJl%3D"),
    ('{"suite_secret": "sh-secret-1", "corp": "x"}', "sh-secret-1"),
    ("{'appsecret': 'app-secret-2'}", "app-secret-2"),
    ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
    ("key dsk_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA used", "AAAAAAAAAAAAAAAAAAAA"),
])
def test_logging_scrub_masks_secret_values(text, secret):
    assert secret not in scrub(text)
    assert "********" in scrub(text)


def test_logging_scrub_keeps_what_is_not_secret():
    text = "notification 12 accepted for tenant 3 (userid=u1, corp_id=ding1)"
    assert scrub(text) == text


def test_logging_json_lines_carry_the_context():
    record = logging.LogRecord("messaging.sending", logging.INFO, __file__, 1,
                               "batch %s sent with access_token=%s", (7, "tok999"), None)
    ScrubSecrets().filter(record)
    with log_context.scope(request_id="req-12345678"):
        log_context.set_tenant("dingcorp1")
        line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "batch 7 sent with access_token=********"
    assert entry["request_id"] == "req-12345678" and entry["tenant"] == "dingcorp1"
    assert entry["level"] == "INFO" and entry["logger"] == "messaging.sending"
    assert "\n" not in line
    assert log_context.current() == {}  # the scope is gone with its request


@pytest.mark.django_db
def test_logging_request_id_is_answered_and_kept_from_a_sane_header(client):
    mine = client.get("/healthz", HTTP_X_REQUEST_ID="caller-req-0001")
    assert mine["X-Request-Id"] == "caller-req-0001"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="bad\nheader value")
    assert forged["X-Request-Id"] != "bad\nheader value" and len(forged["X-Request-Id"]) == 32


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_logging_no_secret_in_any_log_over_a_lifecycle_and_a_send(
        celery_worker, celery_session_worker, live_server, emulator, make_suite, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(ScrubSecrets())  # what dingsuite's handlers do to every record
    worker_log_start = celery_session_worker.log_path.stat().st_size

    suite, remote = make_suite(push_style="http", with_ticket=False,
                               callback_url=live_server.url + "/callbacks/{suite_key}/")
    tickets = [emulator.push_ticket(suite.suite_key)]
    wait_for(lambda: suite_ticket_current(suite=suite) == tickets[0], what="the ticket")
    corp = emulator.create_corp(users=8)
    auth = emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = wait_for(lambda: Tenant.objects.filter(
        suite=suite, corp_id=corp["corp_id"], status=Tenant.Status.AUTHORIZED).first(),
        what="the tenant")
    api_key = api_key_create(name="logs", suite=suite).plaintext
    client = key_client(api_key)
    response = client.post(f"/api/v1/tenants/{tenant.corp_id}/notifications/",
                           {"userid_list": corp["userids"][:5],
                            "msg": {"msgtype": "text", "text": {"content": "hi"}}},
                           format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    wait_for(lambda: client.get(f"/api/v1/tenants/{tenant.corp_id}/notifications/{pk}/")
             .json()["status"] == "completed", timeout=60, what="the notification completed")
    tokens = list(AccessToken.objects.values_list("value", flat=True))  # before relieve drops
    assert tokens
    tickets.append(emulator.push_ticket(suite.suite_key))
    emulator.app_state(suite.suite_key, corp["corp_id"], "stop")
    emulator.app_state(suite.suite_key, corp["corp_id"], "restore")
    emulator.relieve(suite.suite_key, corp["corp_id"])
    wait_for(lambda: Tenant.objects.filter(pk=tenant.pk, status=Tenant.Status.RELIEVED).exists(),
             what="the relieve")

    secrets = {"suite secret": remote["suite_secret"], "callback token": remote["token"],
               "AES key": remote["aes_key"], "permanent code": auth["permanent_code"],
               "API key": api_key, **{f"ticket {i}": t for i, t in enumerate(tickets)},
               **{f"token {i}": t for i, t in enumerate(tokens)}}
    web_logs = "\n".join(caplog.handler.format(r) for r in caplog.records)
    with open(celery_session_worker.log_path, encoding="utf-8", errors="replace") as log:
        log.seek(worker_log_start)
        worker_logs = log.read()
    assert "notification" in web_logs and "callback_event_process" in worker_logs  # read
    leaked = {name for name, value in secrets.items()
              if value and (value in web_logs or value in worker_logs)}
    assert not leaked

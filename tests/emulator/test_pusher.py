"""Callback pushes to a real HTTP receiver that decrypts with dingtalk.crypto and answers."""

import json
import threading
import time

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from dingtalk.crypto import CREATE_SUITE_KEY, CallbackCrypto
from dingtalk.events import parse_callback

TOKEN = "tok123"
AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
FAST = {"retry_base_s": 0.001, "retry_factor": 1, "retry_cap_s": 0.001}


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Receiver:
    """An ISV callback endpoint: verifies, decrypts, records, then answers as scripted."""

    def __init__(self):
        self.cond = threading.Condition()
        self.reset()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                  request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, suite_key="", modes=(), then="success"):
        with self.cond:
            self.suite_key, self.modes, self.then = suite_key, list(modes), then
            self.received: list[dict] = []

    def crypto(self, key):
        return CallbackCrypto(token=TOKEN, encoding_aes_key=AES_KEY, key=key)

    def _decrypt(self, request: Request) -> dict:
        args, encrypt = request.args, json.loads(request.get_data())["encrypt"]
        for key in (self.suite_key, CREATE_SUITE_KEY):
            try:
                text = self.crypto(key).verify_and_decrypt(
                    signature=args["signature"], timestamp=args["timestamp"],
                    nonce=args["nonce"], encrypt=encrypt)
                return {"key": key, "payload": json.loads(text), "query": dict(args)}
            except Exception:  # noqa: BLE001  (try the next $key)
                continue
        raise AssertionError("push did not decrypt with the suite's crypto")

    def app(self, environ, start_response):
        request = Request(environ)
        push = self._decrypt(request)
        with self.cond:
            mode = self.modes.pop(0) if self.modes else self.then
            self.received.append(push)
            self.cond.notify_all()
        return self.answer(mode, push)(environ, start_response)

    def answer(self, mode, push):
        crypto = self.crypto(push["key"])
        if mode == "nothing":
            return Response(b"", status=200)
        if mode == "http500":
            return Response(b"oops", status=500)
        if mode == "slow":
            time.sleep(0.6)  # a slow ISV: longer than the configured 0.3 s deadline
        text = {"wrong": "failure", "random": push["payload"].get("Random")}.get(mode, "success")
        reply = crypto.encrypted_reply(text)
        if mode == "lowercase":
            reply["timestamp"] = reply.pop("timeStamp")
        if mode == "badsig":
            reply["msg_signature"] = "0" * 40
        return Response(json.dumps(reply), content_type="application/json")

    def wait_for(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"got {len(self.received)} pushes, wanted {count}")
                self.cond.wait(left)
            return list(self.received)


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


def poll(fn, timeout=5.0):
    """Call fn until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        threading.Event().wait(0.01)


def make_suite(emulator, receiver, *, modes=(), then="success", **fields):
    fields.setdefault("callback_url", receiver.url)
    suite = emulator.create_suite(token=TOKEN, aes_key=AES_KEY, **fields)
    receiver.reset(suite["suite_key"], modes, then)
    return suite


def settled(emulator, suite_key, count=1):
    """The suite's pushes once `count` of them are in a terminal state."""
    def done():
        pushes = emulator.pushes(suite_key=suite_key)
        finished = [p for p in pushes if p["status"] not in ("pending", "in_flight")]
        return pushes if len(finished) >= count else None
    return poll(done)


def test_pusher_ticket_push_is_signed_encrypted_and_acknowledged(emulator, receiver):
    suite = make_suite(emulator, receiver)
    ticket = emulator.push_ticket(suite["suite_key"])
    push = receiver.wait_for(1)[0]
    assert push["payload"]["EventType"] == "suite_ticket"
    assert push["payload"]["SuiteTicket"] == ticket
    assert push["payload"]["SuiteKey"] == suite["suite_key"]
    assert set(push["query"]) == {"signature", "timestamp", "nonce"}
    [record] = settled(emulator, suite["suite_key"])
    assert record["acknowledged"] is True and record["attempts"] == 1
    counts = emulator.counters()["pushes"]
    assert counts["sent"] == 1 and counts["acknowledged"] == 1


def test_pusher_counters_per_suite_and_corp(emulator, receiver):
    suite = make_suite(emulator, receiver)
    corp = emulator.create_corp(users=3)
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    receiver.wait_for(1)
    settled(emulator, suite["suite_key"])
    by = {(r["key"], r["suite_key"], r["corp_id"]): r["count"]
          for r in emulator.counters()["pushes_by"]}
    assert by == {("sent", suite["suite_key"], corp["corp_id"]): 1,
                  ("acknowledged", suite["suite_key"], corp["corp_id"]): 1}


@pytest.mark.parametrize("bad", ["wrong", "nothing", "http500", "badsig"])
def test_pusher_unacknowledged_push_is_pushed_again(emulator, receiver, bad):
    emulator.set_config(pusher=FAST)
    suite = make_suite(emulator, receiver, modes=[bad, bad])
    emulator.push_ticket(suite["suite_key"])
    [record] = settled(emulator, suite["suite_key"])
    assert record["status"] == "acknowledged" and record["attempts"] == 3
    assert len(receiver.wait_for(3)) == 3


def test_pusher_slow_reply_misses_the_deadline(emulator, receiver):
    emulator.set_config(pusher={**FAST, "http_deadline_s": 0.3})
    suite = make_suite(emulator, receiver, modes=["slow"])
    emulator.push_ticket(suite["suite_key"])
    [record] = settled(emulator, suite["suite_key"])
    assert record["attempts"] == 2 and record["acknowledged"] is True


def test_pusher_gives_up_after_100_pushes(emulator, receiver):
    emulator.set_config(pusher=FAST)
    suite = make_suite(emulator, receiver, then="nothing")
    emulator.push_ticket(suite["suite_key"])
    [record] = settled(emulator, suite["suite_key"])
    assert record["status"] == "failed" and record["attempts"] == 100
    assert len(receiver.received) == 100
    assert emulator.counters()["pushes"]["failed"] == 1


def test_pusher_retries_wait_for_emulated_time(emulator, receiver):
    emulator.set_config(pusher={"retry_base_s": 30})
    suite = make_suite(emulator, receiver, modes=["wrong"])
    emulator.push_ticket(suite["suite_key"])
    receiver.wait_for(1)
    [record] = poll(lambda: [p for p in emulator.pushes(suite_key=suite["suite_key"])
                             if p["status"] == "pending" and p["attempts"] == 1])
    assert record["next_attempt_ms"] - emulator.now_ms() > 25_000
    emulator.advance(31)
    receiver.wait_for(2)
    [record] = settled(emulator, suite["suite_key"])
    assert record["acknowledged"] is True and record["attempts"] == 2


def test_pusher_reply_with_timestamp_key_and_fresh_nonce_is_accepted(emulator, receiver):
    suite = make_suite(emulator, receiver, then="lowercase")
    emulator.push_ticket(suite["suite_key"])
    [record] = settled(emulator, suite["suite_key"])
    assert record["acknowledged"] is True and record["attempts"] == 1


def test_pusher_reply_signature_check_can_be_switched_off(emulator, receiver):
    emulator.set_config(pusher={"verify_reply_signature": False})
    suite = make_suite(emulator, receiver, then="badsig")
    emulator.push_ticket(suite["suite_key"])
    [record] = settled(emulator, suite["suite_key"])
    assert record["acknowledged"] is True


def test_pusher_http_events_for_auth_lifecycle_in_order(emulator, receiver):
    corp = emulator.create_corp(users=5)
    suite = make_suite(emulator, receiver)
    key, corp_id = suite["suite_key"], corp["corp_id"]
    record = emulator.authorize(key, corp_id)
    emulator.change_auth(key, corp_id, authed_dept=[1])
    emulator.app_state(key, corp_id, "stop")
    emulator.relieve(key, corp_id)
    payloads = [p["payload"] for p in receiver.wait_for(4)]
    assert [p["EventType"] for p in payloads] == [
        "tmp_auth_code", "change_auth", "org_micro_app_stop", "suite_relieve"]
    assert payloads[0]["AuthCode"] == record["tmp_auth_code"]
    assert all(p["AuthCorpId"] == corp_id and p["SuiteKey"] == key for p in payloads)
    assert payloads[2]["AgentId"] == record["agent_id"]
    settled(emulator, key, count=4)


def test_pusher_sync_http_rows(emulator, receiver):
    corp = emulator.create_corp(users=5)
    suite = make_suite(emulator, receiver, push_style="sync_http")
    key, corp_id = suite["suite_key"], corp["corp_id"]
    record = emulator.authorize(key, corp_id)
    emulator.relieve(key, corp_id)
    first, second = (p["payload"] for p in receiver.wait_for(2))
    assert first["EventType"] == "SYNC_HTTP_PUSH_HIGH"
    [row] = first["bizData"]
    assert set(row) == {"id", "gmt_create", "gmt_modified", "subscribe_id", "corp_id", "biz_id",
                        "biz_type", "biz_data", "open_cursor", "status"}
    assert row["subscribe_id"] == f"{suite['suite_id']}_0" and row["biz_type"] == 4
    assert row["corp_id"] == corp_id and row["status"] == 0 and row["open_cursor"] == 0
    biz = json.loads(row["biz_data"])
    assert biz["syncAction"] == "org_suite_auth"
    assert biz["auth_corp_info"]["corpid"] == corp_id
    assert biz["auth_info"]["agent"][0]["agentid"] == record["agent_id"]
    assert biz["auth_scope"]["auth_org_scopes"]["authed_dept"] == [1]
    assert json.loads(second["bizData"][0]["biz_data"]) == {"syncAction": "org_suite_relieve"}
    assert second["bizData"][0]["id"] > row["id"]
    [event] = parse_callback(first)
    assert event.kind == "org_suite_auth" and event.corp_id == corp_id


def test_pusher_sync_http_contact_and_corp_rows(emulator, receiver):
    corp = emulator.create_corp(users=5)
    suite = make_suite(emulator, receiver, push_style="sync_http")
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    receiver.wait_for(1)
    emulator.contact_change(corp["corp_id"], "user_add_org", user={"userid": "newbie"})
    emulator.corp_update(corp["corp_id"], name="Renamed")
    user_push, corp_push = (p["payload"] for p in receiver.wait_for(3)[1:])
    assert user_push["EventType"] == "SYNC_HTTP_PUSH_MEDIUM"
    row = user_push["bizData"][0]
    assert row["biz_type"] == 13 and row["biz_id"] == "newbie"
    assert json.loads(row["biz_data"])["syncAction"] == "user_add_org"
    corp_row = corp_push["bizData"][0]
    assert corp_row["biz_type"] == 16
    assert json.loads(corp_row["biz_data"])["corp_name"] == "Renamed"


def test_pusher_sync_http_ticket_row(emulator, receiver):
    suite = make_suite(emulator, receiver, push_style="sync_http")
    ticket = emulator.push_ticket(suite["suite_key"])
    row = receiver.wait_for(1)[0]["payload"]["bizData"][0]
    assert row["biz_type"] == 2 and row["biz_id"] == str(suite["suite_id"])
    assert json.loads(row["biz_data"])["suiteTicket"] == ticket


def test_pusher_legacy_url_check_accepts_the_random_reply(emulator, receiver):
    suite = make_suite(emulator, receiver, legacy_url_check=True, then="random")
    url = f"{emulator.base_url}/_emulator/suites/{suite['suite_key']}/check_url"
    answer = requests.post(url, json={"kind": "create"}).json()
    push = receiver.wait_for(1)[0]
    assert push["key"] == CREATE_SUITE_KEY
    assert push["payload"] == {"EventType": "check_create_suite_url", "Random": answer["random"],
                               "TestSuiteKey": CREATE_SUITE_KEY}
    [record] = settled(emulator, suite["suite_key"])
    assert record["acknowledged"] is True


def test_pusher_random_reply_is_wrong_outside_legacy_mode(emulator, receiver):
    emulator.set_config(pusher=FAST)
    suite = make_suite(emulator, receiver, modes=["random"])
    url = f"{emulator.base_url}/_emulator/suites/{suite['suite_key']}/check_url"
    requests.post(url, json={"kind": "update"})
    [record] = settled(emulator, suite["suite_key"])
    assert record["attempts"] == 2 and record["event"] == "check_update_suite_url"


def test_pusher_ticket_schedule_follows_the_emulated_clock(emulator, receiver):
    emulator.set_config(pusher={"ticket_interval_s": 600})
    suite = make_suite(emulator, receiver)
    old = emulator.current_ticket(suite["suite_key"])
    emulator.advance(601)
    push = receiver.wait_for(1)[0]["payload"]
    assert push["EventType"] == "suite_ticket" and push["SuiteTicket"] != old
    assert emulator.current_ticket(suite["suite_key"]) == push["SuiteTicket"]


def test_pusher_newer_ticket_supersedes_an_unacknowledged_one(emulator, receiver):
    emulator.set_config(pusher={"retry_base_s": 300})
    suite = make_suite(emulator, receiver, modes=["wrong"])
    emulator.push_ticket(suite["suite_key"])
    receiver.wait_for(1)
    emulator.push_ticket(suite["suite_key"])
    first, second = settled(emulator, suite["suite_key"], count=2)
    assert first["status"] == "superseded" and second["status"] == "acknowledged"


def test_pusher_suite_without_callback_url_is_skipped(emulator):
    suite = emulator.create_suite()
    emulator.push_ticket(suite["suite_key"])
    [record] = emulator.pushes(suite_key=suite["suite_key"])
    assert record["status"] == "skipped" and record["attempts"] == 0


def test_pusher_slow_isv_does_not_block_the_control_api(emulator, receiver):
    emulator.set_config(pusher={**FAST, "http_deadline_s": 0.3})
    suite = make_suite(emulator, receiver, then="slow")
    started = time.monotonic()
    for _ in range(5):
        emulator.push_ticket(suite["suite_key"])
    # Delivering inside the control request would take at least 5 x 0.3 s.
    assert time.monotonic() - started < 1.0
    receiver.wait_for(1)

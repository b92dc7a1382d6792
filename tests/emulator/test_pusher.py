"""Push delivery: acknowledgement, re-pushes, deadlines, give-up, supersede, counters."""

import time

import pytest
from pusher_helpers import FAST, make_suite, poll, settled

from dingtalk.emulator.pushes import PusherConfig


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


def test_pusher_sync_http_suites_have_their_own_deadline(emulator, receiver):
    emulator.set_config(pusher={**FAST, "http_deadline_s": 5, "sync_http_deadline_s": 0.3})
    suite = make_suite(emulator, receiver, push_style="sync_http", modes=["slow"])
    emulator.push_ticket(suite["suite_key"])
    [record] = settled(emulator, suite["suite_key"])
    assert record["attempts"] == 2 and record["acknowledged"] is True


def test_pusher_defaults_are_dingtalks():
    """1500 ms (HTTP push), 1200 ms (SyncHTTP), 100 pushes, a ticket every 20 minutes."""
    defaults = PusherConfig()
    assert (defaults.http_deadline_s, defaults.sync_http_deadline_s) == (1.5, 1.2)
    assert defaults.max_pushes == 100 and defaults.ticket_interval_s == 1200


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

"""The mirror's ETag under concurrent writers: two writes of one tenant's mirror (a pushed row,
a sync step) commit in the order of the time they stamp, so the newest stamp, and with it the
ETag, moves with every committed change. Before, a write that took its time and then waited
could commit after a later one, leaving the newest stamp where it was: a reader holding the
ETag taken between the two commits got 304 for rows that had changed."""

import threading

import pytest
from django.db import connection, connections

from directory import selectors
from directory.models import User
from directory.services import incremental, store
from directory.services import sync as sync_module
from directory.services.sync import sync_request, sync_run
from tests.tenants.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _rename(tenant, userid: str, name: str, stamp: int) -> None:
    incremental._record(tenant, f"event:race-{userid}", [  # noqa: SLF001
        ("user", "modify", [userid], {"userid": userid, "name": name, "department": [1]},
         stamp)])


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


def test_the_etag_moves_whatever_order_two_writers_commit_in(emulator, make_app, monkeypatch):
    # This test runs the sync itself: its queued message (sent on commit in a transactional
    # test) would let the session's Celery worker claim it first ("not claimed", seen in CI).
    monkeypatch.setattr(sync_module, "_enqueue", lambda tenant_id: None)
    tenant, corp, _ = make_app(users=10)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    slow, quick = corp["userids"][1], corp["userids"][2]
    stamp = emulator.now_ms() + 1000
    real_upsert, inside, release = store.users_upsert, threading.Event(), threading.Event()

    def held_upsert(**kwargs):
        if any(u.userid == slow for u in kwargs["users"]):
            inside.set()
            assert release.wait(30)
        return real_upsert(**kwargs)

    monkeypatch.setattr(store, "users_upsert", held_upsert)
    done: list[str] = []

    def run(userid, name):
        try:
            _rename(tenant, userid, name, stamp)
            done.append(userid)
        finally:
            connections.close_all()

    first = threading.Thread(target=run, args=(slow, "慢"))
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=run, args=(quick, "快"))
    second.start()
    # The second writer either commits at once or waits for the first one's lock.
    wait_for(lambda: quick in done or _waiting_on_a_lock(), timeout=20,
             what="the second write to commit or wait")
    seen = selectors.mirror_state(tenant=tenant).etag
    release.set()
    first.join(30)
    second.join(30)
    assert sorted(done) == sorted([slow, quick])
    assert {u.userid: u.name for u in User.objects.filter(
        tenant=tenant, userid__in=[slow, quick])} == {slow: "慢", quick: "快"}
    # Both renames are visible now: the ETag a reader took in between must not match.
    assert selectors.mirror_state(tenant=tenant).etag != seen

"""Proof: 8 OS processes x 25 threads, 10 tenants, tokens expiring mid-run; one fetch per expiry.

Each child process sets Django up on the test database, builds one client per tenant with
client_for, and its 25 threads each call user/get for all 10 tenants (so each tenant has 200
concurrent callers spread over the 8 processes). Rounds are synchronised with a
multiprocessing Barrier (the parent advances the emulator's clock past the 7200 s token
lifetime between the rounds), never with sleeps.
"""

import multiprocessing
import os
import threading

import pytest

PROCESSES = 8
THREADS = 25
TENANTS = 10
# Every thread calls every tenant each round, as the issue asks (about 20 s on 2 cores).
PER_THREAD = TENANTS
BARRIER_TIMEOUT = 120


def _calls(offset, clients, failures, counter, lock, start):
    start.wait()
    # Threads start at different tenants, so every tenant's token is contended at once.
    for client, userid in (clients[offset:] + clients[:offset])[:PER_THREAD]:
        try:
            assert client.users.get(userid).userid == userid
            with lock:
                counter[0] += 1
        except Exception as exc:  # every failure is reported to the parent
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")


def _round(clients):
    failures, counter, lock = [], [0], threading.Lock()
    start = threading.Barrier(THREADS)
    threads = [threading.Thread(target=_calls,
                                args=(i % len(clients), clients, failures, counter, lock, start))
               for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counter[0], failures


def child_main(env, tenant_ids, userids, barrier, results):
    """One OS process: Django on the test DB, clients for the 10 tenants, two rounds."""
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from tenants.models import Tenant
    from tenants.services.clients import client_for

    tenants = Tenant.objects.select_related("suite").filter(pk__in=tenant_ids)
    clients = [(client_for(tenant), userids[str(tenant.pk)]) for tenant in tenants]
    outcome = []
    for _ in range(2):
        barrier.wait(BARRIER_TIMEOUT)
        outcome.append(_round(clients))
        barrier.wait(BARRIER_TIMEOUT)
    results.put(outcome)
    connections.close_all()


def _corp_fetches(emulator, tenants):
    fetches = emulator.counters()["token_fetches"].get("get_corp_token", {})
    return {t.corp_id: fetches.get(f"{t.suite.suite_key}:{t.corp_id}", 0) for t in tenants}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lock_in", ["redis", "postgresql"])
def test_tokens_one_fetch_per_tenant_per_expiry_across_processes(emulator, make_suite, lock_in):
    """With Redis, or without it (REDIS_URL unset: the PostgreSQL advisory lock)."""
    from tests.tenants.conftest import child_env
    from tests.tenants.factories import TenantFactory

    suite, _ = make_suite()
    tenants, userids = [], {}
    for _ in range(TENANTS):
        corp = emulator.create_corp(users=3)
        auth = emulator.authorize(suite.suite_key, corp["corp_id"])
        tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"], agent_id=auth["agent_id"])
        tenants.append(tenant)
        userids[str(tenant.pk)] = corp["userids"][0]
    env = child_env(DINGTALK_BASE_URL=emulator.base_url)
    if lock_in == "postgresql":
        env["REDIS_URL"] = ""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES + 1), ctx.Queue()
    procs = [ctx.Process(target=child_main,
                         args=(env, [t.pk for t in tenants], userids, barrier, results))
             for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    try:
        barrier.wait(BARRIER_TIMEOUT)  # round 1 starts: nobody has a token yet
        barrier.wait(BARRIER_TIMEOUT)  # round 1 done
        first = _corp_fetches(emulator, tenants)
        emulator.advance(7201)  # every corp token is now expired at DingTalk
        barrier.wait(BARRIER_TIMEOUT)  # round 2 starts on expired tokens
        barrier.wait(BARRIER_TIMEOUT)  # round 2 done
        outcomes = [results.get(timeout=BARRIER_TIMEOUT) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    second = _corp_fetches(emulator, tenants)
    failures = [f for outcome in outcomes for _, fails in outcome for f in fails]
    assert failures == []
    calls = [ok for outcome in outcomes for ok, _ in outcome]
    assert sum(calls) == 2 * PROCESSES * THREADS * PER_THREAD
    assert first == {t.corp_id: 1 for t in tenants}
    assert second == {t.corp_id: 2 for t in tenants}
    assert emulator.counters()["errcodes"].get("40014", 0) >= TENANTS  # expiry really happened

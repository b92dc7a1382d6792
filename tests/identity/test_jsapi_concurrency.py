"""Proof: 4 OS processes x 10 threads ask for dd.config for 3 tenants while dingsuite's clock and
the emulator's pass the ticket's expiry: exactly one get_jsapi_ticket per tenant per expiry
window, counted by the emulator, and every sampled config verifies the container's way.
Without Redis the ticket is cached per process: one fetch per process per window.

Each child process sets Django up on the test database and shares this session's Redis and
clock file (DINGSUITE_CLOCK_FILE); rounds are synchronised with a multiprocessing Barrier,
the parent moving both clocks past the 7200 s ticket lifetime between them (bench/jsapi.py runs
the same at 8 x 25 x 10).
"""

import multiprocessing
import os
import threading

import pytest
import requests

from tests.conftest import advance_time

PROCESSES = 4
THREADS = 10
TENANTS = 3
PER_THREAD = 2  # configs per tenant per thread per round
ROUNDS = 3  # expiry windows
BARRIER_TIMEOUT = 120
PAGE = "https://h5.example.com:8443/app/index.html?corpId={corp}&n={n}#/home"


def _thread(tenants, offset, start, out, lock):
    from identity.services.jsapi import jsapi_config

    start.wait()
    for n in range(PER_THREAD):
        for tenant in tenants[offset:] + tenants[:offset]:
            page = PAGE.format(corp=tenant.corp_id, n=n)
            try:
                config = jsapi_config(tenant=tenant, url=page)
                with lock:
                    out["ok"] += 1
                    out["samples"][tenant.corp_id] = {
                        "url": page, "nonceStr": config.nonce_str,
                        "timeStamp": config.timestamp, "signature": config.signature,
                        "agentId": config.agent_id}
            except Exception as exc:  # every failure goes back to the parent
                with lock:
                    out["failures"].append(f"{type(exc).__name__}: {exc}")


def child_main(env, tenant_ids, rounds, barrier, results):
    """One OS process: Django on the test DB, THREADS threads asking for dd.config."""
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from tenants.models import Tenant

    tenants = list(Tenant.objects.select_related("suite").filter(pk__in=tenant_ids))
    for _ in range(rounds):
        barrier.wait(BARRIER_TIMEOUT)
        out, lock = {"ok": 0, "failures": [], "samples": {}}, threading.Lock()
        start = threading.Barrier(THREADS)
        threads = [threading.Thread(target=_thread,
                                    args=(tenants, i % len(tenants), start, out, lock))
                   for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.put(out)
        barrier.wait(BARRIER_TIMEOUT)
    connections.close_all()


def ticket_fetches(emulator, corp_ids) -> dict[str, int]:
    counts = dict.fromkeys(corp_ids, 0)
    for row in emulator.counters()["calls_by"]:
        if row["endpoint"] == "get_jsapi_ticket" and row["corp_id"] in counts:
            counts[row["corp_id"]] += row["count"]
    return counts


def container_ok(emulator, corp_id, sample) -> bool:
    answer = requests.post(f"{emulator.base_url}/_emulator/corps/{corp_id}/jsapi/verify",
                           json=sample, timeout=10).json()
    return answer.get("ok") is True


def _windows(emulator, make_suite, *, legacy: bool, redis: bool):
    """Run the rounds; -> (get_jsapi_ticket per corp after each window, corp ids)."""
    from tests.tenants.conftest import authorized_tenant, child_env

    emulator.set_config(jsapi_ticket_legacy=legacy, rate_limits_enabled=False)
    tenants = [authorized_tenant(emulator, make_suite)[0] for _ in range(TENANTS)]
    corp_ids = [t.corp_id for t in tenants]
    env = child_env(DINGTALK_BASE_URL=emulator.base_url)
    if not redis:
        env["REDIS_URL"] = ""
    assert env.get("DINGSUITE_CLOCK_FILE"), "children must share this session's clock"
    ctx = multiprocessing.get_context("spawn")
    rounds = ROUNDS
    barrier, results = ctx.Barrier(PROCESSES + 1), ctx.Queue()
    procs = [ctx.Process(target=child_main,
                         args=(env, [t.pk for t in tenants], rounds, barrier, results))
             for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    per_window, outcomes = [], []
    try:
        for window in range(rounds):
            barrier.wait(BARRIER_TIMEOUT)  # the round starts
            barrier.wait(BARRIER_TIMEOUT)  # the round is done
            round_out = [results.get(timeout=BARRIER_TIMEOUT) for _ in procs]
            outcomes.append(round_out)
            # Sampled configs verify while their ticket is the current one.
            assert all(container_ok(emulator, corp_id, sample)
                       for out in round_out for corp_id, sample in out["samples"].items())
            per_window.append(ticket_fetches(emulator, corp_ids))
            if window < rounds - 1:
                advance_time(emulator, 7201)  # every ticket (and corp token) has expired
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    failures = [f for round_out in outcomes for out in round_out for f in out["failures"]]
    assert failures == []
    assert sum(out["ok"] for round_out in outcomes for out in round_out) == (
        rounds * PROCESSES * THREADS * PER_THREAD * TENANTS)
    assert all(len(out["samples"]) == TENANTS for round_out in outcomes for out in round_out)
    return per_window, corp_ids


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_jsapi_one_ticket_fetch_per_tenant_per_expiry_across_processes(
        emulator, make_suite, legacy):
    """Under both behaviours: a second fetch would kill the first ticket in legacy mode, so
    every sample verifying there shows nobody fetched twice."""
    per_window, corp_ids = _windows(emulator, make_suite, legacy=legacy, redis=True)
    assert per_window == [dict.fromkeys(corp_ids, n) for n in range(1, ROUNDS + 1)]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_jsapi_without_redis_one_fetch_per_tenant_per_expiry(emulator, make_suite, legacy):
    """REDIS_URL unset: the PostgreSQL advisory lock keeps fetches apart and the ticket's
    durable copy (the AccessToken table) hands every process the one ticket, so even under
    the older behaviour (a second fetch kills the first) every sample verifies."""
    per_window, corp_ids = _windows(emulator, make_suite, legacy=legacy, redis=False)
    assert per_window == [dict.fromkeys(corp_ids, n) for n in range(1, ROUNDS + 1)]

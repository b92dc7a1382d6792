"""The shared limiter: sliding windows at their boundaries, all-or-nothing, both backends."""

from __future__ import annotations

import copy
import random

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from dingtalk.emulator.notices.config import NoticeConfig
from dingtalk.emulator.notices.quotas import QuotaBook, Sender
from messaging import limiter as limiter_pkg
from messaging.limiter import LimiterUnavailable, Rule, RuleUsage, notice_send_rules
from messaging.limiter.database import DatabaseLimiter
from messaging.limiter.models import LimiterAdmission, LimiterKey
from messaging.limiter.redis_backend import RedisLimiter
from tests.conftest import advance_time

from .limiter_support import delete_own_keys, redis_limiter

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

# Real time runs on between the steps of a test (the clock is real time plus an offset): the
# boundary checks stop this far short of it.
SLACK_S = 0.05


@pytest.fixture(params=["redis", "database"])
def backend(request):
    if request.param == "database":
        yield DatabaseLimiter()
        return
    made = redis_limiter()
    yield made
    delete_own_keys(made)


def test_limiter_admits_up_to_the_limit_then_refuses(backend):
    rule = Rule("k", 5, 60)
    assert [backend.acquire([rule], 2).allowed for _ in range(3)] == [True, True, False]
    assert backend.acquire([rule], 1).allowed
    refused = backend.acquire([rule], 1)
    assert (refused.allowed, refused.blocking_rule) == (False, "k")
    assert 60 - 1 < refused.retry_after_s <= 60


def test_limiter_frees_exactly_one_window_after_the_admission(backend):
    rule = Rule("k", 3, 60)
    assert backend.acquire([rule], 3).allowed
    advance_time(None, 20)
    refused = backend.acquire([rule], 1)
    assert not refused.allowed and 40 - 1 < refused.retry_after_s <= 40
    advance_time(None, refused.retry_after_s - SLACK_S)
    assert not backend.acquire([rule], 1).allowed  # still inside the window
    advance_time(None, SLACK_S)
    assert backend.acquire([rule], 3).allowed  # at t + 60 s the admission has left it


def test_limiter_window_slides_it_is_not_a_calendar_minute(backend):
    # Admit the limit half a second before a calendar minute ends: a fixed window would hand
    # out another full limit just after the minute turns, and DingTalk's sliding count drops it.
    from core import clock

    advance_time(None, (60 - (clock.time() % 60) - 0.5) % 60)  # never backwards
    rule = Rule("k", 10, 60)
    assert backend.acquire([rule], 10).allowed
    advance_time(None, 1)
    refused = backend.acquire([rule], 1)
    assert not refused.allowed and refused.retry_after_s > 58


def test_limiter_frees_admissions_one_by_one_as_they_leave(backend):
    rule = Rule("k", 10, 60)
    assert backend.acquire([rule], 4).allowed
    advance_time(None, 30)
    assert backend.acquire([rule], 6).allowed
    refused = backend.acquire([rule], 5)  # needs the first admission (4) and part of the second
    assert 60 - 1 < refused.retry_after_s <= 60
    refused = backend.acquire([rule], 4)  # the first admission's departure is enough
    assert 30 - 1 < refused.retry_after_s <= 30
    advance_time(None, refused.retry_after_s)
    assert backend.acquire([rule], 4).allowed
    assert not backend.acquire([rule], 1).allowed


def test_limiter_is_all_or_nothing_across_rules(backend):
    wide, narrow = Rule("wide", 1000, 60), Rule("narrow", 100, 60)
    assert backend.acquire([narrow], 60).allowed
    refused = backend.acquire([wide, narrow], 100)
    assert (refused.allowed, refused.blocking_rule) == (False, "narrow")
    # Nothing was taken from the wide rule by the refused send: its 1000 are all there.
    assert backend.acquire([wide], 1000).allowed
    assert not backend.acquire([wide], 1).allowed
    assert backend.acquire([narrow], 40).allowed


def test_limiter_refusal_names_the_rule_that_frees_last(backend):
    early, late = Rule("early", 5, 60), Rule("late", 5, 60)
    assert backend.acquire([early], 5).allowed
    advance_time(None, 10)
    assert backend.acquire([late], 5).allowed
    refused = backend.acquire([early, late], 1)
    assert refused.blocking_rule == "late" and 60 - 1 < refused.retry_after_s <= 60


def test_limiter_call_rules_count_one_per_acquire(backend):
    recipients, calls = Rule("recipients", 1000, 60), Rule("calls", 3, 1, counts_calls=True)
    for _ in range(3):
        assert backend.acquire([recipients, calls], 100).allowed
    refused = backend.acquire([recipients, calls], 100)
    assert refused.blocking_rule == "calls" and refused.retry_after_s <= 1
    advance_time(None, refused.retry_after_s)
    assert backend.acquire([recipients, calls], 100).allowed


def test_limiter_refuses_what_could_never_fit(backend):
    with pytest.raises(ValueError):
        backend.acquire([Rule("k", 10, 60)], 11)
    with pytest.raises(ValueError):
        backend.acquire([Rule("k", 10, 60), Rule("k", 20, 60)], 1)
    with pytest.raises(ValueError):
        backend.acquire([Rule("k", 10, 60)], 0)
    assert backend.acquire([], 5).allowed


@pytest.mark.parametrize("isv", [True, False])
def test_limiter_agrees_with_the_emulator_quota_book(backend, monkeypatch, isv):
    """Same instants, same windows: what the limiter admits the emulator delivers in full,
    and what it refuses the emulator would have cut (no margin on these rules)."""
    import messaging.limiter.database as database_module
    import messaging.limiter.redis_backend as redis_module

    config = NoticeConfig(per_minute_app_corp=300, per_minute_suite=500, per_minute_corp=400,
                          daily_cap_internal=10**6, daily_cap_isv=10**6)
    book = QuotaBook(config)
    sender = Sender(corp_id="corp1", app_key="app1", agent_id=1, is_isv=isv)
    rules = [Rule("app1:corp1", 300, 60),
             Rule("suite:app1", 500, 60) if isv else Rule("corp:corp1", 400, 60)]
    now = [1_700_000_000_000]
    module = redis_module if isinstance(backend, RedisLimiter) else database_module
    monkeypatch.setattr(module, "now_ms", lambda: now[0])
    rng = random.Random(9)
    sent = refused = 0
    for number in range(300):
        now[0] += rng.choice([0, 1, 500, 7_000, 20_000, 59_999, 60_000])
        amount = rng.randint(1, 100)
        decision = backend.acquire(rules, amount)
        userids = [f"u{number}-{i}" for i in range(amount)]
        # A refused send is not sent: ask a copy of the emulator's book what it would have done.
        target = book if decision.allowed else copy.deepcopy(book)
        outcome = target.admit(now_ms=now[0], sender=sender, userids=userids, content=str(number))
        dropped = [u for u, verdict in outcome.items() if verdict is not None]
        if decision.allowed:
            sent += 1
            assert dropped == [], f"send {number}: the emulator dropped what the limiter admitted"
        else:
            refused += 1
            assert dropped, f"send {number}: the limiter refused what the emulator delivers"
    assert sent > 50 and refused > 20


def _stamped(monkeypatch, backend, now):
    """Make `backend` read its clock from now[0] (epoch ms), as a host's own clock."""
    import messaging.limiter.database as database_module
    import messaging.limiter.redis_backend as redis_module

    module = redis_module if isinstance(backend, RedisLimiter) else database_module
    monkeypatch.setattr(module, "now_ms", lambda: now[0])


def test_limiter_counts_an_admission_stamped_by_a_clock_behind(backend, monkeypatch):
    # Hosts' clocks disagree a little: an admission stamped before the newest one still frees
    # at its own time + window, and waits are counted from the oldest stamps.
    now = [1_700_000_010_000]
    _stamped(monkeypatch, backend, now)
    rule = Rule("k", 5, 60)
    assert backend.acquire([rule], 3).allowed  # at T + 10 s
    now[0] -= 10_000
    assert backend.acquire([rule], 2).allowed  # at T, by a host 10 s behind
    refused = backend.acquire([rule], 2)
    assert (refused.blocking_rule, refused.retry_after_s) == ("k", 60.0)
    refused = backend.acquire([rule], 3)  # needs the 2 at T and 1 of the 3 at T + 10 s
    assert refused.retry_after_s == 70.0
    now[0] += 60_000
    assert backend.acquire([rule], 2).allowed
    assert not backend.acquire([rule], 1).allowed
    now[0] += 10_000
    assert backend.acquire([rule], 3).allowed


def test_limiter_usage_reports_used_and_when_the_oldest_frees(backend, monkeypatch):
    now = [1_700_000_000_000]
    _stamped(monkeypatch, backend, now)
    rule, idle = Rule("k", 10, 60), Rule("idle", 7, 20)
    assert backend.acquire([rule], 4).allowed
    now[0] += 20_000
    assert backend.acquire([rule], 3).allowed
    assert backend.usage([rule, idle]) == [RuleUsage("k", 10, 60, 7, 40.0),
                                           RuleUsage("idle", 7, 20, 0, None)]
    now[0] += 39_999
    assert backend.usage([rule]) == [RuleUsage("k", 10, 60, 7, 0.001)]
    now[0] += 1  # the 4 leave at exactly T + 60 s; the 3 free 20 s later
    assert backend.usage([rule]) == [RuleUsage("k", 10, 60, 3, 20.0)]
    now[0] += 20_000
    assert backend.usage([rule]) == [RuleUsage("k", 10, 60, 0, None)]
    assert backend.usage([]) == []


def test_limiter_usage_changes_nothing(backend, monkeypatch):
    now = [1_700_000_000_000]
    _stamped(monkeypatch, backend, now)
    rule = Rule("k", 5, 60)
    assert backend.acquire([rule], 5).allowed
    before = _stored(backend)
    now[0] += 60_000  # the admission has left the window, nothing has trimmed it yet
    assert [u.used for u in backend.usage([rule, Rule("never", 5, 60)])] == [0, 0]
    assert _stored(backend) == before  # no trim, no row or key for "never"
    assert backend.acquire([rule], 5).allowed


def _stored(backend):
    if isinstance(backend, RedisLimiter):
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            return {key: client.dump(key) for key in client.scan_iter(match=f"{backend.prefix}*")}
        finally:
            client.close()
    return (list(LimiterKey.objects.order_by("key").values_list()),
            list(LimiterAdmission.objects.order_by("key", "admitted_ms").values_list()))


def test_limiter_database_totals_follow_the_admissions(monkeypatch):
    """The running total of each key is the sum of its rows, and oldest_ms (where trims start)
    is its oldest row, through admissions, refusals, trims and a clock stepping back (an
    acquire never sums a window, so a drift would go unnoticed)."""
    backend, now, rng = DatabaseLimiter(), [1_700_000_000_000], random.Random(5)
    _stamped(monkeypatch, backend, now)
    rules = [Rule("a", 50, 60), Rule("b", 30, 20), Rule("c", 5, 1, counts_calls=True)]
    admitted = 0
    for _ in range(200):
        now[0] += rng.choice([0, 1, 300, 2_000, 9_000, -1_500])
        chosen = rng.sample(rules, rng.randint(1, 3))
        admitted += backend.acquire(chosen, rng.randint(1, 5)).allowed
    assert admitted > 40
    stored = {key: (total, oldest) for key, total, oldest
              in LimiterKey.objects.values_list("key", "total", "oldest_ms")}
    for key in "abc":
        rows = dict(LimiterAdmission.objects.filter(key=key).values_list("admitted_ms", "amount"))
        assert stored[key] == (sum(rows.values()), min(rows)), key


def test_limiter_database_leaves_a_callers_transaction_durable():
    # The limiter's own transactions commit without waiting for the WAL flush; one it joins
    # (here the test's) keeps synchronous_commit as it was.
    with transaction.atomic():
        assert DatabaseLimiter().acquire([Rule("k", 5, 60)], 1).allowed
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"


def test_limiter_usage_unavailable_when_redis_is_down():
    from .test_limiter_outage import dead_redis_url

    backend = RedisLimiter(url=dead_redis_url(), prefix="down:", timeout_s=0.2)
    with pytest.raises(LimiterUnavailable):
        backend.usage([Rule("k", 5, 60)])


def test_limiter_picks_redis_when_configured_else_the_database(settings):
    settings.REDIS_URL = ""
    assert isinstance(limiter_pkg.limiter(), DatabaseLimiter)
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert isinstance(limiter_pkg.limiter(), RedisLimiter)


def test_limiter_redis_keys_expire_with_their_window():
    backend = redis_limiter()
    try:
        assert backend.acquire([Rule("k", 5, 60), Rule("q", 5, 1)], 1).allowed
        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = sorted(k.decode() for k in client.scan_iter(match=f"{backend.prefix}*"))
        assert keys == [f"{backend.prefix}{name}" for name in ("k:h", "k:z", "q:h", "q:z")]
        ttls = {key.removeprefix(backend.prefix): client.pttl(key) for key in keys}
        assert all(0 < ttls[k] <= 121_000 for k in ("k:h", "k:z"))
        assert all(0 < ttls[k] <= 3_000 for k in ("q:h", "q:z"))
    finally:
        delete_own_keys(backend)


def test_limiter_database_prune_drops_only_old_admissions():
    backend = DatabaseLimiter()
    assert backend.acquire([Rule("old", 5, 60)], 1).allowed
    advance_time(None, 7200)
    assert backend.acquire([Rule("new", 5, 60)], 1).allowed
    assert backend.prune(older_than_s=3600) == 1
    assert set(LimiterKey.objects.values_list("key", flat=True)) == {"new"}
    assert set(LimiterAdmission.objects.values_list("key", flat=True)) == {"new"}


def test_limiter_catalogue_follows_settings_and_per_suite_overrides(settings):
    settings.MESSAGING_LIMIT_EGRESS_CALLS = 10000  # PROTOCOL's figure (test settings raise it)
    settings.MESSAGING_LIMIT_SMOOTH_S = 1  # the default (test settings turn it off)
    settings.MESSAGING_LIMIT_OVERRIDES = {"suiteA": {"MESSAGING_LIMIT_SUITE_PER_MINUTE": 900}}
    isv = notice_send_rules(app_key="suiteA", corp_id="c1", suite_key="suiteA")
    assert [(r.key, r.limit, r.window_seconds, r.counts_calls) for r in isv] == [
        ("notice:app:suiteA:corp:c1", 5000, 61.0, False),
        ("notice:suite:suiteA", 900, 61.0, False),
        # The shared budget at the same rate over a short window: 100 per 61 * 100/900 s.
        ("notice:suite:suiteA:smooth", 100, 61.0 * 100 / 900, False),
        ("api:suiteA:asyncsend_v2", 20, 1.0, True),
        ("egress:default", 10000, 20.0, True),
    ]
    internal = notice_send_rules(app_key="appB", corp_id="c2", suite_key=None)
    assert [r.key for r in internal][:2] == ["notice:app:appB:corp:c2", "notice:corp:c2"]
    settings.MESSAGING_LIMIT_CORP_PER_MINUTE = 0  # the corp-wide rule off, as the emulator's 0
    assert "notice:corp:c2" not in [r.key for r in notice_send_rules(
        app_key="appB", corp_id="c2", suite_key=None)]

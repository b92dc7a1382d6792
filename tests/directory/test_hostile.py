"""The mirror against hostile values and its own failures: whatever DingTalk's answers or a
signed push carry (NUL, lone surrogates, names longer than a column, Infinity, ids beyond a
bigint), a sync ends in a status that says what happens next, and a pushed row is applied
with its unstorable parts made safe or refused with a clear note, never a half-written row."""

import pytest
from django.conf import settings

from directory.models import (
    AppliedContactEvent,
    Department,
    DirectorySync,
    Membership,
    User,
)
from directory.services import incremental
from directory.services import sync as sync_service
from directory.services.sync import sync_request, sync_run
from tenants.models import CallbackEvent
from tenants.services.events import callback_event_process
from tests.conftest import advance_time
from tests.tenants.conftest import authorized_tenant
from tests.tenants.pushes import push, sync_row, sync_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Status = DirectorySync.Status


def test_an_unexpected_error_fails_the_sync_with_a_backoff(emulator, make_app, monkeypatch):
    tenant, corp, _ = make_app(users=10)
    sync_request(tenant=tenant, reason="test")

    def broken(**kwargs):
        raise RuntimeError("a bug in the walk's write")

    monkeypatch.setattr(sync_service.store, "users_upsert", broken)
    # Not raised out of the task (which would leave the sync "running" until its lease passed,
    # then crash again every lease for ever): recorded as a failure the sweep retries later.
    assert sync_run(tenant_id=tenant.pk) == "failed"
    sync = DirectorySync.objects.get(tenant=tenant)
    assert (sync.status, sync.attempts, sync.lease_owner) == (Status.FAILED, 1, "")
    assert sync.next_attempt_at is not None and "RuntimeError" in sync.error
    assert sync.checkpoint  # kept: the retry resumes it
    monkeypatch.undo()
    sync.next_attempt_at = sync.last_failure_at
    sync.save()
    assert sync_run(tenant_id=tenant.pk) == "done"
    assert DirectorySync.objects.get(tenant=tenant).status == Status.IDLE


def test_a_sync_stores_hostile_text_and_numbers_safely(emulator, make_app):
    tenant, corp, _ = make_app(users=10)
    userid = corp["userids"][3]
    emulator.contact_change(corp["corp_id"], "user_modify_org", drop=True, user={
        "userid": userid, "name": "a\x00b" + "x" * 300, "position": "p\x00"})
    dept = emulator.contact_change(corp["corp_id"], "org_dept_create", drop=True, dept={
        "name": "d\x00", "parent_id": 1, "order": 2**70})["dept_ids"][0]
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    user = User.objects.get(tenant=tenant, userid=userid)
    assert (user.name, user.title) == ("a\ufffdb" + "x" * 252, "p\ufffd")
    row = Department.objects.get(tenant=tenant, dept_id=dept)
    assert (row.name, row.order) == ("d\ufffd", None)
    assert DirectorySync.objects.get(tenant=tenant).user_count == 10


def _deliver(client, tenant, *rows) -> list[CallbackEvent]:
    before = set(CallbackEvent.objects.values_list("pk", flat=True))
    assert push(client, tenant.suite, sync_rows(*rows)).status_code == 200
    events = CallbackEvent.objects.exclude(pk__in=before).order_by("pk")
    return [callback_event_process(event_id=e.pk) for e in events]


def _row(tenant, biz_type, biz_id, data, modified, event_id):
    return sync_row(tenant.suite, biz_type, biz_id, {**data, "eventId": event_id},
                    corp_id=tenant.corp_id, modified=modified)


def test_pushed_rows_with_hostile_values_apply_safely_or_are_refused(
        client, emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    userid, now = corp["userids"][1], emulator.now_ms() + 1000
    hostile_user = {"syncAction": "user_modify_org", "userid": userid, "name": "\ud800名\x00",
                    "position": "t" * 1000, "avatar": ["not", "text"], "unionid": "u" * 101,
                    "department": [1, "2" * 40, -5, float("inf")],
                    "orderInDepts": {"1": float("inf")}, "isLeaderInDepts": "[" * 100_000,
                    "deptManagerUseridList": "x"}
    hostile_dept = {"syncAction": "org_dept_modify", "id": 1, "name": "n" * 300,
                    "order": float("nan"), "deptManagerUseridList": f"ok|{'m' * 65}|b\x00"}
    events = _deliver(client, tenant,
                      _row(tenant, 13, userid, hostile_user, now, "h1"),
                      _row(tenant, 14, 1, hostile_dept, now, "h2"),
                      _row(tenant, 13, "u" * 65, {"syncAction": "user_add_org",
                                                   "userid": "u" * 65}, now, "h3"),
                      _row(tenant, 14, "9" * 30, {"syncAction": "org_dept_create",
                                                   "id": int("9" * 30)}, now, "h4"))
    assert [e.status for e in events] == ["done", "done", "ignored", "ignored"], [
        e.last_error for e in events]
    assert "not mirrored" in events[2].last_error and "not mirrored" in events[3].last_error
    user = User.objects.get(tenant=tenant, userid=userid)
    assert (user.name, user.title, user.avatar, user.unionid) == (
        "\ufffd名\ufffd", "t" * 255, "", "")
    assert {m.dept_id: m.order for m in Membership.objects.filter(
        tenant=tenant, userid=userid)} == {1: None}
    root = Department.objects.get(tenant=tenant, dept_id=1)
    assert (root.name, root.order, root.manager_userids) == ("n" * 255, None, ["ok"])
    assert not User.objects.filter(tenant=tenant, userid__startswith="uuuu").exists()
    # Refused rows wrote nothing, not even their applied-event record.
    assert not AppliedContactEvent.objects.filter(tenant=tenant, key__in=[
        "event:h3", "event:h4"]).exists()


def test_a_row_stamped_in_the_future_does_not_freeze_its_entity(client, emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    renamed, leaver = corp["userids"][1], corp["userids"][2]
    world = {u["userid"]: u for u in emulator.get_corp(corp["corp_id"])["users"]}
    decade = emulator.now_ms() + 10 * 365 * 86400 * 1000
    rows = [_row(tenant, 13, userid, {"syncAction": "user_modify_org", "userid": userid,
                                      "name": "未来", "department": world[userid]["depts"]},
                 decade, f"future-{userid}") for userid in (renamed, leaver)]
    assert [e.status for e in _deliver(client, tenant, *rows)] == ["done", "done"]
    assert User.objects.get(tenant=tenant, userid=renamed).name == "未来"
    # DingTalk's later changes reach us only through the reconcile (their pushes were lost).
    emulator.contact_change(corp["corp_id"], "user_modify_org", drop=True,
                            user={"userid": renamed, "name": "现在"})
    emulator.contact_change(corp["corp_id"], "user_leave_org", drop=True,
                            user={"userid": leaver})
    advance_time(emulator, settings.DIRECTORY_ROW_MAX_AHEAD + 60)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    assert User.objects.get(tenant=tenant, userid=renamed).name == "现在"
    assert User.objects.get(tenant=tenant, userid=leaver).deleted_at is not None


def test_a_push_applied_while_a_department_is_read_is_not_overwritten_by_the_walk(
        client, emulator, make_suite, monkeypatch):
    tenant, corp = authorized_tenant(emulator, make_suite)
    userid = corp["userids"][1]
    real_read, raced = sync_service.dept_read, []

    def read_then_race(client_, caller, dept_id):
        read = real_read(client_, caller, dept_id)
        if dept_id == 1 and not raced:
            # After the walk read the department, the user is renamed in DingTalk and the
            # row of that change is applied before the walk's write commits.
            raced.append(emulator.contact_change(corp["corp_id"], "user_modify_org", drop=True,
                                                 user={"userid": userid, "name": "新"}))
            user = raced[0]["records"][0]
            events = _deliver(client, tenant, _row(
                tenant, 13, userid, {"syncAction": "user_modify_org", "userid": userid,
                                     "name": user["name"], "department": user["depts"]},
                emulator.now_ms(), "race-1"))
            assert [e.status for e in events] == ["done"]
        return read

    monkeypatch.setattr(sync_service, "dept_read", read_then_race)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    assert raced
    # The walk's state was read before the change: it must not win over the newer row.
    assert User.objects.get(tenant=tenant, userid=userid).name == "新"


def test_a_rerun_asked_for_mid_walk_is_claimable_when_its_task_arrives(
        emulator, make_app, monkeypatch):
    tenant, corp, _ = make_app(users=10)
    real_read, runs = sync_service.dept_read, []

    def read_and_ask_again(client_, caller, dept_id):
        if not runs:
            runs.append("asked")
            sync_request(tenant=tenant, reason="scope_change")  # running: one more after it
        return real_read(client_, caller, dept_id)

    def instant_worker(tenant_id):
        # A worker that takes the rerun's message the moment it is published.
        runs.append(sync_run(tenant_id=tenant_id))

    sync_request(tenant=tenant, reason="test")
    monkeypatch.setattr(sync_service, "dept_read", read_and_ask_again)
    monkeypatch.setattr(sync_service, "_enqueue", instant_worker)
    assert sync_run(tenant_id=tenant.pk) == "done"
    # The rerun's task found it queued, not still "running" (which made it wait for the sweep).
    assert runs[:2] == ["asked", "done"], runs
    sync = DirectorySync.objects.get(tenant=tenant)
    assert (sync.status, sync.generation, sync.rerun) == (Status.IDLE, 2, False)


def test_a_user_row_naming_ten_thousand_departments_fetches_a_bounded_few(
        client, emulator, make_suite, django_capture_on_commit_callbacks):
    tenant, corp = authorized_tenant(emulator, make_suite)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    userid = corp["userids"][1]
    named = list(range(10_000, 20_000))
    row = _row(tenant, 13, userid, {"syncAction": "user_dept_change", "userid": userid,
                                    "department": [1, *named, *named]},
               emulator.now_ms(), "many-1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert [e.status for e in _deliver(client, tenant, row)] == ["done"]
    # Every membership is kept (dangling), but one row does not become 10,000 DingTalk calls:
    # a few departments are fetched now, the next full sync reads the rest.
    assert Membership.objects.filter(tenant=tenant, userid=userid).count() == 10_001
    fetches = [c for c in callbacks if "directory.dept_fetch" in repr(c)]
    assert len(fetches) == incremental.MAX_FETCHES_PER_ROW


def test_event_ids_long_or_unstorable_dedupe_exactly(client, emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    first, second = corp["userids"][1], corp["userids"][2]
    now = emulator.now_ms()

    def rename(userid, name, event_id):
        return _row(tenant, 13, userid, {"syncAction": "user_modify_org", "userid": userid,
                                         "name": name, "department": [1]}, now, event_id)

    shared = "e" * 300  # two ids alike in their first 300 characters are still two rows
    events = _deliver(client, tenant, rename(first, "甲", shared + "1"),
                      rename(second, "乙", shared + "2"), rename(first, "丙", "nul\x00\ud800"))
    assert [e.status for e in events] == ["done", "done", "done"], [
        e.last_error for e in events]
    assert User.objects.get(tenant=tenant, userid=second).name == "乙"
    assert User.objects.get(tenant=tenant, userid=first).name == "丙"
    # The same ids again are duplicates.
    again = _deliver(client, tenant, rename(second, "丁", shared + "2"),
                     rename(first, "戊", "nul\x00\ud800"))
    assert [e.status for e in again] == ["ignored", "ignored"]


def test_a_leave_row_naming_an_unstorable_userid_deletes_the_others(client, emulator,
                                                                    make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    leaver = corp["userids"][1]
    # The event-page form: no biz_id, the users named in the data.
    row = sync_row(tenant.suite, 13, None, {"syncAction": "user_leave_org", "eventId": "lv",
                                            "userId": [leaver, "bad\x00id", "x" * 300]},
                   corp_id=tenant.corp_id, modified=emulator.now_ms())
    events = _deliver(client, tenant, row)
    assert [e.status for e in events] == ["done"], [e.last_error for e in events]
    assert User.objects.get(tenant=tenant, userid=leaver).deleted_at is not None

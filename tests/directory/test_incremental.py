"""Pushed contact rows applied to the mirror through the real callback pipeline (signed push ->
inbox -> processing): field-by-field agreement with the full sync, per-entity ordering by the
row's modification time, eventId dedupe, leave/remove, dangling departments fetched lazily,
ISV rows without a parentid, and internal apps' ids-only pushes re-fetched."""

import json

import pytest

from directory import selectors
from directory.models import AppliedContactEvent, Department, User
from directory.services.incremental import department_fetch
from directory.services.sync import sync_request, sync_run
from tenants.models import CallbackEvent
from tenants.services.events import callback_event_process
from tests.directory.mirror import actual_mirror, diff, expected_mirror
from tests.tenants.conftest import authorized_tenant
from tests.tenants.pushes import app_post, app_signed, push, sync_row, sync_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _mirrored(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    return tenant, corp


def _v1_user(u: dict, **changes) -> dict:
    """The v1 user/get object of an emulator user, as biz_type 13 carries it."""
    u = {**u, **changes}
    return {"userid": u["userid"], "unionid": u["unionid"], "name": u["name"],
            "active": u["active"], "avatar": u["avatar"], "position": u["position"],
            "department": u["depts"],
            "orderInDepts": "{" + ",".join(f"{d}:{o}" for d, o in u["orders"].items()) + "}",
            "isLeaderInDepts": "{" + ",".join(
                f"{d}:{'true' if d in u['leader_in'] else 'false'}" for d in u["depts"]) + "}",
            "isAdmin": u["is_admin"], "isBoss": u["is_boss"], "isSenior": u["is_senior"],
            "mobile": "13800000000", "email": "leak@example.com", "syncSeq": 1}


def _deliver(client, tenant, *rows) -> list[CallbackEvent]:
    """Push the rows as one SyncHTTP push and process the events it stored, in row order."""
    before = set(CallbackEvent.objects.values_list("pk", flat=True))
    assert push(client, tenant.suite, sync_rows(*rows)).status_code == 200
    events = CallbackEvent.objects.exclude(pk__in=before).order_by("pk")
    return [callback_event_process(event_id=e.pk) or CallbackEvent.objects.get(pk=e.pk)
            for e in events]


def _row(tenant, biz_type, biz_id, data, modified, action, event_id=None):
    data = {**data, "syncAction": action}
    if event_id:
        data["eventId"] = event_id
    return sync_row(tenant.suite, biz_type, biz_id, data, corp_id=tenant.corp_id,
                    modified=modified)


def test_user_rows_apply_in_modification_order_once(client, emulator, make_suite):
    tenant, corp = _mirrored(emulator, make_suite)
    world = emulator.get_corp(corp["corp_id"])
    u = world["users"][3]
    now = emulator.now_ms() + 10_000
    newer = _row(tenant, 13, u["userid"], _v1_user(u, name="新名字"), now + 5, "user_modify_org",
                 "ev-new")
    older = _row(tenant, 13, u["userid"], _v1_user(u, name="旧名字"), now, "user_modify_org",
                 "ev-old")
    # Delivered newest first: the older row, arriving later, must not win.
    events = _deliver(client, tenant, newer, older)
    assert [e.status for e in events] == ["done", "done"]
    row = User.objects.get(tenant=tenant, userid=u["userid"])
    assert (row.name, row.modified_ms) == ("新名字", now + 5)
    # The same eventId again (a duplicate push with another row id) changes nothing.
    again = _row(tenant, 13, u["userid"], _v1_user(u, name="重复"), now + 9, "user_modify_org",
                 "ev-new")
    assert [e.status for e in _deliver(client, tenant, again)] == ["ignored"]
    assert User.objects.get(tenant=tenant, userid=u["userid"]).name == "新名字"
    assert AppliedContactEvent.objects.filter(tenant=tenant, key="event:ev-new").count() == 1
    # Only fields third-party apps are given are kept: the row's mobile and email are not.
    assert "13800000000" not in json.dumps(list(User.objects.filter(pk=row.pk).values()),
                                           default=str)


def test_a_pushed_row_and_the_full_sync_agree_field_by_field(client, emulator, make_suite):
    tenant, corp = _mirrored(emulator, make_suite)
    world = emulator.get_corp(corp["corp_id"])
    u = next(x for x in world["users"] if x["depts"] != [1])
    # The row carries exactly the state the sync read: applying it changes nothing visible.
    before = actual_mirror(tenant)
    _deliver(client, tenant, _row(tenant, 13, u["userid"], _v1_user(u),
                                  emulator.now_ms() + 1000, "user_modify_org", "ev-same"))
    assert actual_mirror(tenant) == before
    assert not diff(expected_mirror(world), before)


def test_leave_deletes_and_an_older_row_does_not_revive(client, emulator, make_suite):
    tenant, corp = _mirrored(emulator, make_suite)
    u = emulator.get_corp(corp["corp_id"])["users"][2]
    now = emulator.now_ms() + 10_000
    leave = sync_row(tenant.suite, 13, u["userid"], {"syncAction": "user_leave_org"},
                     corp_id=tenant.corp_id, modified=now)
    stale = _row(tenant, 13, u["userid"], _v1_user(u), now - 1, "user_modify_org", "ev-stale")
    _deliver(client, tenant, leave, stale)
    assert selectors.user(tenant=tenant, userid=u["userid"]) is None
    assert u["userid"] not in selectors.dept_member_userids(tenant=tenant, dept_ids=[1])
    # A later add (the user came back) revives it.
    _deliver(client, tenant, _row(tenant, 13, u["userid"], _v1_user(u), now + 1,
                                  "user_add_org", "ev-back"))
    assert selectors.user(tenant=tenant, userid=u["userid"]) is not None


def test_a_user_in_an_unseen_department_is_kept_and_the_department_fetched(
        client, emulator, make_suite, django_capture_on_commit_callbacks):
    tenant, corp = _mirrored(emulator, make_suite)
    # The department's own push is lost; the user's row arrives first.
    made = emulator.contact_change(corp["corp_id"], "org_dept_create",
                                   dept={"name": "新部门", "parent_id": 1}, drop=True)
    dept_id = made["dept_ids"][0]
    moved = emulator.contact_change(corp["corp_id"], "user_modify_org",
                                    user={"userid": corp["userids"][4], "depts": [dept_id]},
                                    drop=True)["records"][0]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _deliver(client, tenant, _row(tenant, 13, moved["userid"], _v1_user(moved),
                                      emulator.now_ms() + 1, "user_dept_change", "ev-dangle"))
    assert len(callbacks) >= 1  # the lazy fetch of the department is queued
    user = selectors.user(tenant=tenant, userid=moved["userid"])
    assert [m.dept_id for m in user.memberships] == [dept_id]
    assert selectors.department(tenant=tenant, dept_id=dept_id) is None
    assert department_fetch(tenant=tenant, dept_id=dept_id) is True
    dept = selectors.department(tenant=tenant, dept_id=dept_id)
    assert (dept.name, dept.parent_id) == ("新部门", 1)
    assert selectors.dept_member_userids(tenant=tenant, dept_ids=[dept_id]) == {moved["userid"]}


def test_department_rows_modify_and_remove(client, emulator, make_suite):
    tenant, corp = _mirrored(emulator, make_suite)
    dept = next(d for d in emulator.get_corp(corp["corp_id"])["departments"]
                if d["parent_id"] == 1)
    now = emulator.now_ms() + 10_000
    # ISV v1 department/get carries no parentid (PROTOCOL 4): the stored parent stays.
    data = {"id": dept["id"], "name": "改名部门", "order": 77,
            "deptManagerUseridList": "ua|ub"}
    _deliver(client, tenant, _row(tenant, 14, dept["id"], data, now, "org_dept_modify", "d1"))
    row = Department.objects.get(tenant=tenant, dept_id=dept["id"])
    assert (row.name, row.parent_id, row.order, row.manager_userids) == (
        "改名部门", 1, 77, ["ua", "ub"])
    remove = sync_row(tenant.suite, 14, dept["id"], {"syncAction": "org_dept_remove"},
                      corp_id=tenant.corp_id, modified=now + 1)
    _deliver(client, tenant, remove)
    assert selectors.department(tenant=tenant, dept_id=dept["id"]) is None


def test_internal_app_ids_only_pushes_are_fetched_again(client, emulator, make_app):
    tenant, corp, _ = make_app(users=30)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    userid = corp["userids"][5]
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": userid, "name": "取回的名字"}, drop=True)
    payload = {"EventType": "user_modify_org", "UserId": [userid], "CorpId": corp["corp_id"],
               "TimeStamp": emulator.now_ms(), "eventId": "http-1"}
    assert app_post(client, tenant.appkey, *app_signed(tenant, payload)).status_code == 200
    event = CallbackEvent.objects.get(tenant=tenant)
    assert callback_event_process(event_id=event.pk).status == "done"
    assert selectors.user(tenant=tenant, userid=userid).name == "取回的名字"
    emulator.contact_change(corp["corp_id"], "user_leave_org", user={"userid": userid},
                            drop=True)
    payload = {**payload, "EventType": "user_leave_org", "eventId": "http-2",
               "TimeStamp": emulator.now_ms() + 1}
    app_post(client, tenant.appkey, *app_signed(tenant, payload))
    event = CallbackEvent.objects.filter(tenant=tenant).order_by("-pk").first()
    assert callback_event_process(event_id=event.pk).status == "done"
    assert selectors.user(tenant=tenant, userid=userid) is None

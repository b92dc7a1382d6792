"""Contact rows (biz_type 13/14, PROTOCOL-ISV 4.3) and their delivery faults: duplicate, hold and
release (reverse, coalesced), drop; batches; ids-only HTTP events; scope-update pushes."""

import json

import pytest
from pusher_helpers import make_suite, poll, settled

from dingtalk.emulator.control_client import EmulatorControlError
from dingtalk.events import parse_callback

WITHHELD = {"mobile", "email", "orgEmail", "workPlace", "remark", "stateCode", "hiredDate", "tel"}


def _sync_corp(emulator, receiver, users=30, **corp):
    corp = emulator.create_corp(users=users, **corp)
    suite = make_suite(emulator, receiver, push_style="sync_http")
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    receiver.wait_for(1)
    return corp, suite


def _rows(pushes):
    return [row for p in pushes for row in p["payload"]["bizData"]]


def _data(row):
    return json.loads(row["biz_data"])


def test_contact_user_row_is_the_full_v1_object(emulator, receiver):
    corp, suite = _sync_corp(emulator, receiver)
    userid = corp["userids"][5]
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": userid, "position": "架构师"})
    [row] = _rows(receiver.wait_for(2)[1:])
    data = _data(row)
    assert row["biz_type"] == 13 and row["biz_id"] == userid
    assert row["gmt_modified"] == row["gmt_create"] and row["corp_id"] == corp["corp_id"]
    user = next(u for u in emulator.get_corp(corp["corp_id"])["users"]
                if u["userid"] == userid)
    assert data["syncAction"] == "user_modify_org" and data["position"] == "架构师"
    assert data["unionid"] == user["unionid"] and data["department"] == user["depts"]
    orders = ",".join(f"{d}:{o}" for d, o in user["orders"].items())
    assert data["orderInDepts"] == "{" + orders + "}"
    leads = ",".join(f"{d}:{'true' if d in user['leader_in'] else 'false'}"
                     for d in user["depts"])
    assert data["isLeaderInDepts"] == "{" + leads + "}"
    assert len(data["eventId"]) == 32 and isinstance(data["syncSeq"], int)
    assert data["errcode"] == 0 and not WITHHELD & set(data)
    [event] = parse_callback(receiver.received[1]["payload"])
    assert event.kind == "contact_user" and event.ids == (userid,)
    assert event.timestamp_ms == row["gmt_modified"]


def test_contact_dept_row_carries_parent_and_managers(emulator, receiver):
    corp, suite = _sync_corp(emulator, receiver)
    created = emulator.contact_change(corp["corp_id"], "org_dept_create",
                                      dept={"name": "新部门", "order": 7,
                                            "manager_userids": corp["userids"][:2]})
    [row] = _rows(receiver.wait_for(2)[1:])
    data = _data(row)
    assert row["biz_type"] == 14 and row["biz_id"] == str(created["dept_ids"][0])
    assert data["id"] == created["dept_ids"][0] and data["parentid"] == 1
    assert data["name"] == "新部门" and data["order"] == 7
    assert data["deptManagerUseridList"] == "|".join(corp["userids"][:2])
    assert "sourceIdentifier" not in data and data["syncAction"] == "org_dept_create"


@pytest.mark.parametrize("form", ["bare", "ids"])
def test_contact_leave_and_remove_rows_carry_ids_only(emulator, receiver, form):
    emulator.set_config(pusher={"contact_remove_form": form})
    corp, suite = _sync_corp(emulator, receiver)
    userid = corp["userids"][3]
    dept = emulator.contact_change(corp["corp_id"], "org_dept_create", dept={"name": "临时"})
    emulator.contact_change(corp["corp_id"], "user_leave_org", user={"userid": userid})
    emulator.contact_change(corp["corp_id"], "org_dept_remove",
                            dept={"id": dept["dept_ids"][0]})
    leave, remove = _rows(receiver.wait_for(4)[2:])
    assert leave["biz_id"] == userid and remove["biz_id"] == str(dept["dept_ids"][0])
    if form == "bare":
        assert _data(leave) == {"syncAction": "user_leave_org"}
        assert _data(remove) == {"syncAction": "org_dept_remove"}
    else:
        assert set(_data(leave)) == {"eventId", "syncAction", "userId", "unionid"}
        assert _data(leave)["userId"] == userid
        assert _data(remove)["deptId"] == dept["dept_ids"][0]
    with pytest.raises(EmulatorControlError):
        emulator.set_config(pusher={"contact_remove_form": "full"})


def test_contact_rows_event_ids_unique_and_stamps_increase(emulator, receiver):
    corp, suite = _sync_corp(emulator, receiver)
    for i in range(6):  # several changes of one user, most within one millisecond
        emulator.contact_change(corp["corp_id"], "user_modify_org",
                                user={"userid": corp["userids"][4], "position": f"p{i}"})
    rows = _rows(receiver.wait_for(7)[1:])
    assert len({_data(r)["eventId"] for r in rows}) == 6
    stamps = [r["gmt_modified"] for r in rows]
    assert stamps == sorted(stamps) and len(set(stamps)) == 6
    assert [_data(r)["position"] for r in rows] == [f"p{i}" for i in range(6)]


def test_contact_batch_is_one_push_of_several_rows_all_or_none(emulator, receiver):
    corp, suite = _sync_corp(emulator, receiver)
    out = emulator.contact_batch(corp["corp_id"], [
        {"action": "user_add_org", "user": {"userid": "b1", "name": "甲"}},
        {"action": "user_modify_org", "user": {"userid": corp["userids"][2], "position": "X"}},
        {"action": "org_dept_create", "dept": {"name": "批量"}},
    ])
    assert [c["action"] for c in out["changes"]] == ["user_add_org", "user_modify_org",
                                                     "org_dept_create"]
    [push] = receiver.wait_for(2)[1:]
    rows = push["payload"]["bizData"]
    assert push["payload"]["EventType"] == "SYNC_HTTP_PUSH_MEDIUM"
    assert [(r["biz_type"], r["biz_id"]) for r in rows] == [
        (13, "b1"), (13, corp["userids"][2]), (14, str(out["changes"][2]["dept_ids"][0]))]
    assert len(parse_callback(push["payload"])) == 3
    before = emulator.get_corp(corp["corp_id"])
    with pytest.raises(EmulatorControlError, match="404"):
        emulator.contact_batch(corp["corp_id"], [
            {"action": "user_modify_org", "user": {"userid": "b1", "position": "changed"}},
            {"action": "user_leave_org", "user": {"userid": "nobody"}}])
    assert emulator.get_corp(corp["corp_id"]) == before  # the first change was put back
    settled(emulator, suite["suite_key"], count=2)
    assert len(emulator.pushes(suite_key=suite["suite_key"])) == 2


def test_contact_duplicate_pushes_the_same_rows_twice(emulator, receiver):
    corp, suite = _sync_corp(emulator, receiver)
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": corp["userids"][1], "position": "dup"},
                            duplicate=True)
    first, second = receiver.wait_for(3)[1:]
    assert first["payload"] == second["payload"]
    assert _data(first["payload"]["bizData"][0])["eventId"] == \
        _data(second["payload"]["bizData"][0])["eventId"]


def test_contact_drop_applies_the_change_but_never_pushes(emulator, receiver):
    corp, suite = _sync_corp(emulator, receiver)
    out = emulator.contact_change(corp["corp_id"], "user_modify_org",
                                  user={"userid": corp["userids"][1], "position": "lost"},
                                  drop=True)
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": corp["userids"][2], "position": "kept"})
    rows = _rows(receiver.wait_for(2)[1:])
    assert [r["biz_id"] for r in rows] == [corp["userids"][2]]
    assert out["records"][0]["position"] == "lost"
    statuses = {p["id"]: p["status"] for p in emulator.pushes(suite_key=suite["suite_key"])}
    assert statuses[out["push_ids"][0]] == "dropped"
    assert emulator.counters()["pushes"]["dropped"] == 1


def test_contact_hold_then_release_in_reverse(emulator, receiver):
    corp, suite = _sync_corp(emulator, receiver)
    userids = corp["userids"][1:4]
    for userid in userids:
        emulator.contact_change(corp["corp_id"], "user_modify_org",
                                user={"userid": userid, "position": "held"}, hold=True)
    assert all(p["status"] == "held" for p in emulator.pushes(suite_key=suite["suite_key"])
               if p["kind"] == "contact")
    released = emulator.release_pushes(suite_key=suite["suite_key"], order="reverse")
    assert len(released) == 3
    rows = _rows(receiver.wait_for(4)[1:])
    assert [r["biz_id"] for r in rows] == userids[::-1]
    # Received in reverse, but each row keeps the modification time of its change.
    assert [r["gmt_modified"] for r in rows] == sorted(r["gmt_modified"] for r in rows)[::-1]


def test_contact_held_pushes_coalesce_into_one_batch(emulator, receiver):
    emulator.set_config(pusher={"contact_hold": True})
    corp, suite = _sync_corp(emulator, receiver)
    for userid in corp["userids"][1:4]:
        emulator.contact_change(corp["corp_id"], "user_modify_org",
                                user={"userid": userid, "position": "c"})
    released = emulator.release_pushes(corp_id=corp["corp_id"], order="reverse",
                                       coalesce=True)
    [push] = receiver.wait_for(2)[1:]
    assert [r["biz_id"] for r in push["payload"]["bizData"]] == corp["userids"][1:4][::-1]
    assert len(released) == 1
    def finished():
        done = [p["status"] for p in emulator.pushes(suite_key=suite["suite_key"])
                if p["kind"] == "contact" and p["status"] not in ("pending", "in_flight")]
        return done if len(done) == 4 else None
    statuses = sorted(poll(finished))
    assert statuses == ["acknowledged", "coalesced", "coalesced", "coalesced"]


@pytest.mark.parametrize("form", ["legacy", "new"])
def test_contact_http_events_carry_ids_only(emulator, receiver, form):
    emulator.set_config(pusher={"contact_http_form": form})
    corp = emulator.create_corp(users=10)
    suite = make_suite(emulator, receiver)
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    emulator.contact_batch(corp["corp_id"], [
        {"action": "user_modify_org", "user": {"userid": corp["userids"][3], "position": "z"}},
        {"action": "org_dept_create", "dept": {"name": "h"}}])
    user_push, dept_push = (p["payload"] for p in receiver.wait_for(3)[1:])
    assert user_push["EventType"] == "user_modify_org"
    assert (user_push.get("UserId") or user_push.get("userId")) == [corp["userids"][3]]
    assert "position" not in json.dumps(user_push)
    assert dept_push["EventType"] == "org_dept_create"
    assert set(dept_push) & {"DeptId", "deptId"}
    if form == "new":
        assert {"EventTime", "BizId", "eventId"} <= set(user_push)
    [event] = parse_callback(user_push)
    assert event.kind == "contact_user" and event.ids == (corp["userids"][3],)


def test_scope_update_push_is_biz_type_7(emulator, receiver):
    corp, suite = _sync_corp(emulator, receiver, users=60)
    dept = corp["dept_ids"][1]
    emulator.change_auth(suite["suite_key"], corp["corp_id"], authed_dept=[dept],
                         authed_user=[corp["userids"][0]], push="scope_update")
    emulator.change_auth(suite["suite_key"], corp["corp_id"], authed_dept=[1])
    scope, change = (p["payload"]["bizData"][0] for p in receiver.wait_for(3)[1:])
    assert scope["biz_type"] == 7
    data = _data(scope)
    assert data["syncAction"] == "org_micro_app_scope_update"
    assert json.loads(data["deptVisibleScopes"]) == [dept]
    assert json.loads(data["userVisibleScopes"]) == [corp["userids"][0]]
    assert change["biz_type"] == 4
    assert _data(change)["auth_scope"]["auth_org_scopes"]["authed_dept"] == [1]
    with pytest.raises(EmulatorControlError, match="400"):
        emulator.change_auth(suite["suite_key"], corp["corp_id"], push="loudly")


def test_generated_corp_with_departments_leaders_and_managers(emulator):
    corp = emulator.create_corp(users=600, depts=40)
    assert corp["dept_count"] == 41 and corp["user_count"] == 600
    full = emulator.get_corp(corp["corp_id"])
    below_root = [d for d in full["departments"] if d["id"] != 1]
    assert all(d["manager_userids"] for d in below_root)
    assert sum(len(u["depts"]) > 1 for u in full["users"]) > 20
    for dept in below_root:
        for userid in dept["manager_userids"]:
            user = next(u for u in full["users"] if u["userid"] == userid)
            assert dept["id"] in user["leader_in"]
    assert emulator.create_corp(users=100)["dept_count"] == 5  # the default: users // 25 + root

"""The seed's routes, POST /api/dingtalkserve/<route>, against the emulator over HTTP: the seed's
fields (JSON and form bodies), checks and messages, DingTalk's body verbatim, asyncsend_v2 as a
single-batch notification on the real Celery worker, and the routes side by side with their
/api/v1/ twins."""

import pytest

from api.services.seed import AUDIENCE_REQUIRED, OWNER_NOT_MEMBER
from messaging.limiter import acquire, app_corp_recipients_rule
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.tasks import notifications_sweep
from tenants.models import Tenant
from tests.api.conftest import key_client
from tests.conftest import advance_time
from tests.tenants.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NStatus = Notification.Status
_NOTICES = "topapi/message/corpconversation"
_SEND = f"{_NOTICES}/asyncsend_v2"


def _seed(client, tenant, route: str, data: dict | None = None, fmt: str = "json", **headers):
    return client.post(f"/api/dingtalkserve/{route}", data or {}, format=fmt,
                       HTTP_X_CORP_ID=tenant.corp_id, **headers)


def _v1(tenant, tail: str) -> str:
    return f"/api/v1/tenants/{tenant.corp_id}/{tail}"


def _user(emulator, corp: dict) -> dict:
    return next(u for u in emulator.get_corp(corp["corp_id"])["users"] if u.get("active", True))


def test_seed_routes_need_a_key_and_a_corp_the_key_can_act_for(make_suite_side):
    mine, theirs = make_suite_side(tenants=1), make_suite_side(tenants=1)
    tenant = mine.tenants[0]
    anonymous = _seed(key_client(None), tenant, "authScopes")
    assert anonymous.status_code == 401 and anonymous.json()["msg"]
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert _seed(key_client("dsk_nope_nope"), tenant, "authScopes").status_code == 401
    other = _seed(mine.client, theirs.tenants[0], "authScopes")
    assert other.status_code == 404 and set(other.json()) == {"msg"}
    no_corp = mine.client.post("/api/dingtalkserve/authScopes", {}, format="json")
    assert no_corp.status_code == 400 and "X-Corp-Id" in no_corp.json()["msg"]
    assert _seed(mine.client, tenant, "authScopes").status_code == 200


def test_seed_reads_answer_dingtalks_body_verbatim(emulator, make_suite_side):
    side = make_suite_side(tenants=1, users=20)
    tenant, corp, client = side.tenants[0], side.corps[0], side.client
    user = _user(emulator, corp)
    dept = int(user["depts"][0])
    cases = {
        "list_ids": ({"id": 1}, "sub_dept_id_list"),
        "list": ({"id": "1", "fetch_child": "true"}, "department"),
        "departmentget": ({"id": dept}, "name"),
        "list_parent_depts_by_dept": ({"id": dept}, "parentIds"),
        "list_parent_depts": ({"userId": user["userid"]}, "department"),
        "get_org_user_count": ({"onlyActive": 0}, "count"),
        "userinfo": ({"userid": user["userid"]}, "userid"),
        "getDeptMember": ({"deptId": dept}, "userIds"),
        "listbypage": ({"department_id": dept, "offset": 0, "size": 10}, "userlist"),
        "getUseridByUnionid": ({"unionid": user["unionid"]}, "userid"),
        "authScopes": ({}, "auth_org_scopes"),
    }
    for route, (data, key) in cases.items():
        for fmt in ("json", "multipart"):
            response = _seed(client, tenant, route, data, fmt=fmt)
            assert response.status_code == 200, (route, fmt, response.content)
            body = response.json()["data"]
            assert body["errcode"] == 0 and key in body, (route, body)
    assert _seed(client, tenant, "getDeptMember", {"deptId": dept}).json()["data"]["userIds"]
    assert _seed(client, tenant, "getUseridByUnionid", {"unionid": user["unionid"]}).json()[
        "data"]["userid"] == user["userid"]


@pytest.mark.parametrize(("route", "data", "msg"), [
    ("list_ids", {}, "id 不能为空"),
    ("list_ids", {"id": ""}, "id 不能为空"),
    ("list_ids", {"id": "abc"}, "id 必须是非负整数"),
    ("list_ids", {"id": "9" * 30}, "id 必须是非负整数"),
    ("userinfo", {"lang": "zh_CN"}, "userid 不能为空"),
    ("listbypage", {"department_id": 1, "offset": 0}, "size 不能为空"),
    ("get_org_user_count", {"onlyActive": "maybe"}, "onlyActive 必须是 true 或 false"),
    ("getsendresult", {}, "task_id 不能为空"),
    ("createChat", {"name": "n", "owner": "a", "useridlist": "b,c"}, OWNER_NOT_MEMBER),
    ("createChat", {"name": "n", "owner": "a"}, "useridlist 不能为空"),
    ("chatSend", {"chatid": "c1"}, "msg 不能为空"),
    ("asyncsend_v2", {"msg": "hi"}, AUDIENCE_REQUIRED),
    ("asyncsend_v2", {"userid_list": "", "dept_id_list": "", "to_all_user": "false",
                      "msg": "hi"}, AUDIENCE_REQUIRED),
    ("asyncsend_v2", {"userid_list": "u1"}, "msg 不能为空"),
])
def test_seed_refuses_as_the_seed_did_before_any_call(emulator, make_app_side, route, data,
                                                      msg):
    tenant, _, key = make_app_side(users=5)
    before = dict(emulator.counters()["calls"])
    for fmt in ("json", "multipart"):
        response = _seed(key_client(key), tenant, route, data, fmt=fmt)
        assert response.status_code == 400, response.content
        assert response.json() == {"msg": msg}
    assert {k: v for k, v in emulator.counters()["calls"].items() if k != "gettoken"} == {
        k: v for k, v in before.items() if k != "gettoken"}
    assert not Notification.objects.exists()


def test_seed_dingtalks_refusal_is_400_with_its_errmsg_and_errcode(emulator, make_suite_side):
    side = make_suite_side(tenants=1)
    tenant = side.tenants[0]
    missing = _seed(side.client, tenant, "departmentget", {"id": 987654})
    assert missing.status_code == 400
    assert missing.json()["errcode"] == 60003 and missing.json()["msg"]
    emulator.add_fault("user/get_org_user_count", errcode=50002, errmsg="out of scope", count=1)
    refused = _seed(side.client, tenant, "get_org_user_count", {"onlyActive": "1"})
    assert refused.status_code == 400
    assert refused.json() == {"msg": "out of scope", "errcode": 50002}
    chats = _seed(side.client, tenant, "chatInfo", {"chatid": "x"})
    assert chats.status_code == 400 and "60011" in chats.json()["msg"]  # suites: no chats


def test_seed_inactive_tenant_is_409(make_app_side):
    tenant, corp, key = make_app_side(users=5)
    Tenant.objects.filter(pk=tenant.pk).update(suspended=True)
    for route, data in (("authScopes", {}), ("asyncsend_v2", {"userid_list": corp["userids"][0],
                                                              "msg": "hi"})):
        response = _seed(key_client(key), tenant, route, data)
        assert response.status_code == 409 and set(response.json()) == {"msg"}
    assert not Notification.objects.exists()


def test_seed_chat_routes_for_an_internal_app(emulator, make_app_side):
    tenant, corp, key = make_app_side(users=6)
    client = key_client(key)
    members = corp["userids"][:3]
    created = _seed(client, tenant, "createChat", {
        "name": "项目群", "owner": members[0], "useridlist": ",".join(members)}, fmt="multipart")
    assert created.status_code == 200, created.content
    chatid = created.json()["data"]["chatid"]
    assert created.json()["data"]["errcode"] == 0
    info = _seed(client, tenant, "chatInfo", {"chatid": chatid}).json()["data"]
    assert info["chat_info"]["useridlist"] == members and info["chat_info"]["owner"] == members[0]
    sent = _seed(client, tenant, "chatSend", {"chatid": chatid, "msg": "大家好"})
    message_id = sent.json()["data"]["messageId"]
    emulator.mark_chat_read(message_id, members[1:])
    readers = _seed(client, tenant, "getReadList", {"messageId": message_id, "cursor": 0,
                                                    "size": 10}).json()["data"]
    assert sorted(readers["readUserIdList"]) == sorted(members[1:])


def test_seed_asyncsend_v2_is_one_task_and_its_progress_and_result_are_dingtalks(
        celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=10)
    client = key_client(key)
    users = corp["userids"][:3]
    response = _seed(client, tenant, "asyncsend_v2", {"userid_list": ",".join(users),
                                                      "msg": "你好"}, fmt="multipart")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["errcode"] == 0 and data["errmsg"] == "ok" and data["request_id"]
    (n,) = Notification.objects.filter(tenant=tenant)
    (batch,) = NotificationBatch.objects.filter(notification=n)
    assert n.single_batch and batch.task_id == data["task_id"] and batch.userids == users
    assert n.msg == {"msgtype": "text", "text": {"content": "你好"}}
    assert emulator.counters()["calls"][_SEND] == 1
    wait_for(lambda: emulator.task(data["task_id"])["progress"]["status"] == 2, timeout=20,
             what="DingTalk done")
    progress = _seed(client, tenant, "getsendprogress", {"task_id": data["task_id"]}).json()
    assert progress["data"]["errcode"] == 0
    assert progress["data"]["progress"]["status"] == 2
    result = _seed(client, tenant, "getsendresult", {"task_id": str(data["task_id"])}).json()
    assert sorted(result["data"]["send_result"]["unread_user_id_list"]) == sorted(users)
    unknown = _seed(client, tenant, "getsendresult", {"task_id": 99999999})
    assert unknown.status_code == 400 and unknown.json()["errcode"]


def test_seed_asyncsend_v2_keeps_dingtalks_list_limits(make_app_side):
    tenant, _, key = make_app_side(users=5)
    many = _seed(key_client(key), tenant, "asyncsend_v2",
                 {"userid_list": ",".join(f"u{i}" for i in range(101)), "msg": "x"})
    assert many.status_code == 400 and "100" in many.json()["msg"]
    depts = _seed(key_client(key), tenant, "asyncsend_v2",
                  {"dept_id_list": list(range(2, 23)), "msg": "x"})
    assert depts.status_code == 400 and "20" in depts.json()["msg"]
    assert not Notification.objects.exists()


def test_seed_asyncsend_v2_refused_by_dingtalk_is_400_with_the_errcode(
        celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=5)
    emulator.add_fault(_SEND, errcode=40035, errmsg="缺少参数", count=1)
    response = _seed(key_client(key), tenant, "asyncsend_v2",
                     {"userid_list": [corp["userids"][0]], "msg": "x"})
    assert response.status_code == 400, response.content
    assert response.json() == {"msg": "缺少参数", "errcode": 40035}
    wait_for(lambda: Notification.objects.get(tenant=tenant).status == NStatus.FAILED,
             timeout=20, what="the notification settled failed")


def test_seed_asyncsend_v2_waits_its_turn_in_the_limiter_and_says_queued(
        celery_worker, emulator, make_app_side, settings):
    """A seed send takes the same limiter as paced sends: over the per-minute budget it is
    queued (202), not sent past the limit, and goes out after the window."""
    settings.API_SEED_SEND_WAIT_S = 1.0
    tenant, corp, key = make_app_side(users=10)
    # Paced sends took this app's whole per-minute budget (the worker's limiter, shared Redis).
    rule = app_corp_recipients_rule(app_key=tenant.app_key_label, corp_id=tenant.corp_id)
    assert acquire([rule], amount=rule.limit).allowed
    # Most of the window gone: the refusal's retry is seconds away (a minute-long countdown
    # would hold the worker's teardown).
    advance_time(emulator, rule.window_seconds - 6)
    response = _seed(key_client(key), tenant, "asyncsend_v2",
                     {"userid_list": corp["userids"][3:5], "msg": "two"})
    assert response.status_code == 202, response.content
    queued = response.json()["data"]
    assert queued["status"] == "queued"
    batch = NotificationBatch.objects.get(notification_id=queued["notification_id"])
    assert batch.task_id is None and "limiter" in batch.last_error
    assert emulator.counters()["calls"].get(_SEND, 0) == 0
    advance_time(emulator, 7 + settings.MESSAGING_SWEEP_PENDING_AFTER_S)
    notifications_sweep()
    wait_for(lambda: NotificationBatch.objects.filter(
        notification_id=queued["notification_id"], task_id__isnull=False).exists(),
        timeout=30, what="the queued send after the window")
    assert emulator.counters()["calls"][_SEND] == 1


def test_seed_routes_side_by_side_with_their_v1_twins(celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=12)
    client = key_client(key)
    user = _user(emulator, corp)
    dept = int(user["depts"][0])
    seed_ids = _seed(client, tenant, "list_ids", {"id": 1}).json()["data"]["sub_dept_id_list"]
    v1_ids = client.get(_v1(tenant, "departments/1/sub-ids/")).json()["results"]
    assert [d["id"] for d in v1_ids] == seed_ids
    seed_count = _seed(client, tenant, "get_org_user_count", {"onlyActive": 0}).json()["data"]
    assert client.get(_v1(tenant, "users/count/")).json()["count"] == seed_count["count"]
    seed_user = _seed(client, tenant, "userinfo", {"userid": user["userid"]}).json()["data"]
    v1_user = client.get(_v1(tenant, f"users/{user['userid']}/")).json()
    assert (v1_user["userid"], v1_user["name"]) == (seed_user["userid"], seed_user["name"])
    seed_members = _seed(client, tenant, "getDeptMember", {"deptId": dept}).json()["data"]
    v1_members = client.get(_v1(tenant, f"departments/{dept}/member-ids/")).json()["results"]
    assert [m["userid"] for m in v1_members] == seed_members["userIds"]
    seed_scopes = _seed(client, tenant, "authScopes").json()["data"]
    v1_scopes = client.get(_v1(tenant, "auth-scopes/")).json()
    assert seed_scopes["auth_org_scopes"]["authed_dept"] == v1_scopes["authed_dept_ids"]
    # The same send both ways: the seed's task and the v1 notification reach the same users.
    users = corp["userids"][:4]
    sent = _seed(client, tenant, "asyncsend_v2", {"userid_list": users, "msg": "同一条"})
    twin = client.post(_v1(tenant, "notifications/"), {
        "userid_list": users, "msg": {"msgtype": "text", "text": {"content": "另一条"}}},
        format="json").json()
    seed_n = Notification.objects.get(tenant=tenant, single_batch=True)
    for pk in (seed_n.pk, twin["id"]):
        wait_for(lambda pk=pk: client.get(_v1(tenant, f"notifications/{pk}/")).json()["status"]
                 == NStatus.COMPLETED, timeout=60, what=f"notification {pk}")
    result = _seed(client, tenant, "getsendresult",
                   {"task_id": sent.json()["data"]["task_id"]}).json()["data"]["send_result"]
    for pk in (seed_n.pk, twin["id"]):
        unread = client.get(_v1(tenant, f"notifications/{pk}/recipients/"),
                            {"outcome": Recipient.Outcome.UNREAD}).json()["results"]
        assert sorted(r["userid"] for r in unread) == sorted(result["unread_user_id_list"])


def test_seed_asyncsend_v2_to_a_department_is_one_task_dingtalk_expands(
        celery_worker, emulator, make_app_side):
    tenant, corp, key = make_app_side(users=40)
    user = _user(emulator, corp)
    dept = int(user["depts"][0])
    response = _seed(key_client(key), tenant, "asyncsend_v2",
                     {"dept_id_list": str(dept), "msg": "部门通知"}, fmt="multipart")
    assert response.status_code == 200, response.content
    (batch,) = NotificationBatch.objects.filter(tenant=tenant)
    assert batch.dept_ids == [dept] and batch.userids == []
    assert batch.task_id == response.json()["data"]["task_id"]
    n = wait_for(lambda: Notification.objects.filter(
        tenant=tenant, status=NStatus.COMPLETED).first(), timeout=60, what="completion")
    delivered = emulator.task(batch.task_id)["send_result"]["unread_user_id_list"]
    assert user["userid"] in delivered
    assert sorted(Recipient.objects.filter(notification=n, outcome=Recipient.Outcome.UNREAD)
                  .values_list("userid", flat=True)) == sorted(delivered)


def test_seed_dingtalk_unreachable_is_502_and_suites_to_all_user_is_400(emulator,
                                                                        make_suite_side):
    side = make_suite_side(tenants=1)
    tenant = side.tenants[0]
    emulator.add_fault("auth/scopes", drop=True)
    gone = _seed(side.client, tenant, "authScopes")
    assert gone.status_code == 502 and set(gone.json()) == {"msg"}
    everyone = _seed(side.client, tenant, "asyncsend_v2", {"to_all_user": True, "msg": "x"})
    assert everyone.status_code == 400 and "41028" in everyone.json()["msg"]
    assert not Notification.objects.exists()

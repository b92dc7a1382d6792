"""/api/v1/tenants/<corp_id>/ directory routes against the emulator over HTTP: every endpoint,
lists paged to the end, bad input as 400s naming the field (no DingTalk call), DingTalk's
refusals mapped by class, an inactive tenant 409."""

import pytest

from tenants.models import Tenant
from tests.api.conftest import key_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _base(tenant) -> str:
    return f"/api/v1/tenants/{tenant.corp_id}/"


def _all_pages(client, url: str, page_size: int) -> list:
    """Every result, following `next` to the end; each page within page_size."""
    results, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        assert len(body["results"]) <= page_size
        results += body["results"]
        url, pages = body["next"], pages + 1
        assert pages < 100
    return results


def _depth(world: dict, dept_id: int) -> int:
    parents = {d["id"]: d["parent_id"] for d in world["departments"]}
    depth = 0
    while parents[dept_id] is not None:
        dept_id, depth = parents[dept_id], depth + 1
    return depth


def _members(world: dict, dept_id: int) -> set[str]:
    return {u["userid"] for u in world["users"] if dept_id in u["depts"]}


@pytest.fixture
def app_world(emulator, make_app_side):
    """(tenant, client, world): an internal app of an 80-user corp, its key, the corp as the
    emulator holds it."""
    tenant, corp, key = make_app_side(users=80)
    return tenant, key_client(key), emulator.get_corp(corp["corp_id"], users=True)


def test_directory_departments_read_and_paged_to_the_end(app_world):
    tenant, client, world = app_world
    base = _base(tenant)
    children = {d["id"] for d in world["departments"] if d["parent_id"] == 1}
    sub_ids = _all_pages(client, f"{base}departments/1/sub-ids/?page_size=1", 1)
    assert [r["id"] for r in sub_ids] and {r["id"] for r in sub_ids} == children
    listed = _all_pages(client, f"{base}departments/?page_size=2&fetch_child=true", 2)
    assert sorted(d["id"] for d in listed) == sorted(
        d["id"] for d in world["departments"] if d["id"] != 1)
    direct = _all_pages(client, f"{base}departments/?parent=1&lang=en_US", 50)
    assert {d["id"] for d in direct} == children
    deepest = max(world["departments"], key=lambda d: _depth(world, d["id"]))
    detail = client.get(f"{base}departments/{deepest['id']}/").json()
    assert (detail["id"], detail["name"]) == (deepest["id"], deepest["name"])
    assert detail["parent_id"] == deepest["parent_id"]
    parents = client.get(f"{base}departments/{deepest['id']}/parents/").json()
    assert parents["dept_id"] == deepest["id"]
    assert parents["parent_ids"][0] == deepest["id"] and parents["parent_ids"][-1] == 1
    assert len(parents["parent_ids"]) == _depth(world, deepest["id"]) + 1


def test_directory_users_read(app_world):
    tenant, client, world = app_world
    base = _base(tenant)
    user = next(u for u in world["users"] if u["depts"] != [1])
    detail = client.get(f"{base}users/{user['userid']}/?lang=zh_CN").json()
    assert (detail["userid"], detail["name"], detail["unionid"]) == (
        user["userid"], user["name"], user["unionid"])
    assert detail["dept_ids"] == user["depts"] and detail["mobile"] == user["mobile"]
    paths = client.get(f"{base}users/{user['userid']}/parent-departments/").json()
    assert paths["userid"] == user["userid"]
    assert [p[0] for p in paths["paths"]] == user["depts"]
    assert all(p[-1] == 1 for p in paths["paths"])
    # users/count/ is the count, not a user whose userid is "count" (route order).
    count = client.get(f"{base}users/count/").json()
    assert count == {"count": len(world["users"]), "only_active": False}
    active = client.get(f"{base}users/count/?only_active=true").json()
    assert active["count"] == sum(1 for u in world["users"] if u["active"])
    assert active["count"] < count["count"]  # the generator makes ~5% inactive
    found = client.get(f"{base}users/by-unionid/{user['unionid']}/").json()
    assert found == {"unionid": user["unionid"], "userid": user["userid"], "contact_type": 0}


def test_directory_members_paged_forward_and_back(app_world):
    tenant, client, world = app_world
    dept = max({d for u in world["users"] for d in u["depts"]},
               key=lambda d: len(_members(world, d)))
    url = f"{_base(tenant)}departments/{dept}/member-ids/?page_size=5"
    ids = _all_pages(client, url, 5)
    assert len(ids) == len({r["userid"] for r in ids})
    assert {r["userid"] for r in ids} == _members(world, dept)
    first_ids = client.get(url).json()
    later = client.get(client.get(first_ids["next"]).json()["next"]).json()
    assert client.get(client.get(later["previous"]).json()["previous"]).json() == first_ids
    members_url = f"{_base(tenant)}departments/{dept}/members/?page_size=5&order=entry_asc"
    members = _all_pages(client, members_url, 5)
    assert [m["userid"] for m in members] and len(members) > 5
    assert {m["userid"] for m in members} == _members(world, dept)
    assert len(members) == len({m["userid"] for m in members})
    first = client.get(members_url).json()
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert back["results"] == first["results"]
    # A page_size above DingTalk's 100 gets pages of at most 100 (one listbypage call each).
    big = client.get(f"{_base(tenant)}departments/{dept}/members/?page_size=200")
    assert big.status_code == 200 and len(big.json()["results"]) == len(members)


def test_directory_a_suite_tenant_reads_its_scope_without_mobiles(emulator, make_suite_side):
    side = make_suite_side(tenants=1)
    tenant, corp = side.tenants[0], side.corps[0]
    scopes = side.client.get(f"{_base(tenant)}auth-scopes/").json()
    assert scopes["authed_dept_ids"] == [1] and "name" in scopes["user_fields"]
    assert set(scopes) == {"authed_dept_ids", "authed_userids", "user_fields",
                           "condition_fields"}
    user = side.client.get(f"{_base(tenant)}users/{corp['userids'][0]}/").json()
    assert user["userid"] == corp["userids"][0] and user["mobile"] is None


def test_directory_out_of_scope_department_is_403(emulator, make_suite_side):
    side = make_suite_side(tenants=1, users=40)
    tenant, corp = side.tenants[0], side.corps[0]
    world = emulator.get_corp(corp["corp_id"], users=True)
    inside, outside = [d["id"] for d in world["departments"] if d["parent_id"] == 1][:2]
    emulator.change_auth(tenant.suite.suite_key, corp["corp_id"], authed_dept=[inside])
    response = side.client.get(f"{_base(tenant)}departments/{outside}/")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "dingtalk_permission_denied" and error["details"]["errcode"] == 50004
    assert side.client.get(f"{_base(tenant)}departments/{inside}/").status_code == 200


def test_directory_unknown_user_is_404_with_dingtalks_errcode(app_world):
    tenant, client, _ = app_world
    response = client.get(f"{_base(tenant)}users/nobody-here/")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "dingtalk_not_found"
    assert error["details"]["errcode"] == 60121 and error["details"]["errmsg"]


@pytest.mark.parametrize(("path", "field"), [
    ("departments/0/", "dept_id"),
    ("departments/-1/", "dept_id"),
    ("departments/9223372036854775808/", "dept_id"),  # 2^63: past a Java long
    ("departments/99999999999999999999999999999999/parents/", "dept_id"),
    (f"departments/{'9' * 2000}/sub-ids/", "dept_id"),
    ("departments/abc/members/", "dept_id"),
    ("departments/%00/member-ids/", "dept_id"),
    ("departments/1.0/", "dept_id"),  # DRF alone would read these as 1
    ("departments/%201/", "dept_id"),
    ("departments/?parent=2.0", "parent"),
    ("departments/?fetch_child=1", "fetch_child"),  # a query boolean is true or false
    ("departments/?fetch_child=", "fetch_child"),
    ("users/count/?only_active=yes", "only_active"),
    ("departments/?parent=-3", "parent"),
    ("departments/?parent=0", "parent"),
    ("departments/?fetch_child=maybe", "fetch_child"),
    ("departments/?lang=fr_FR", "lang"),
    ("departments/1/?lang=%00", "lang"),
    ("users/%00/", "userid"),
    (f"users/{'u' * 65}/", "userid"),
    ("users/a%00b/parent-departments/", "userid"),
    ("users/%20%20/", "userid"),
    ("users/by-unionid/%20/", "unionid"),
    (f"users/by-unionid/{'x' * 101}/", "unionid"),
    ("users/by-unionid/%00/", "unionid"),
    ("users/count/?only_active=2", "only_active"),
    ("departments/1/members/?page_size=0", "page_size"),
    ("departments/1/members/?page_size=201", "page_size"),
    ("departments/1/member-ids/?page_size=abc", "page_size"),
    ("departments/1/members/?order=random", "order"),
])
def test_directory_bad_input_is_400_naming_the_field(emulator, make_app_side, path, field):
    tenant, _, key = make_app_side(users=3)
    before = emulator.counters()["calls"]
    response = key_client(key).get(_base(tenant) + path)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert field in error["details"], error
    assert "\x00" not in response.content.decode()
    assert emulator.counters()["calls"] == before  # DingTalk never saw it


# "cD0tMQ" is p=-1; "cD0xMDAwMDAx" p=1000001, past the furthest offset passed to DingTalk.
@pytest.mark.parametrize("cursor", ["garbage", "%00", "cD0tMQ", "cD0xMDAwMDAx", "x" * 300])
def test_directory_a_forged_cursor_is_invalid_cursor(emulator, make_app_side, cursor):
    tenant, _, key = make_app_side(users=3)
    response = key_client(key).get(f"{_base(tenant)}departments/1/members/?cursor={cursor}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(("endpoint", "fault", "path", "http_status", "code"), [
    ("department/get", {"errcode": 60003}, "departments/1/", 404, "dingtalk_not_found"),
    ("user/get", {"errcode": 50002}, "users/{userid}/", 403, "dingtalk_permission_denied"),
    ("department/list_ids", {"throttle": "app"}, "departments/1/sub-ids/", 429,
     "dingtalk_rate_limited"),
    ("user/get_org_user_count", {"errcode": -1}, "users/count/", 502, "dingtalk_unavailable"),
    ("user/listbypage", {"errcode": 40035}, "departments/1/members/", 400,
     "dingtalk_invalid_request"),
    ("auth/scopes", {"errcode": 60020}, "auth-scopes/", 403, "dingtalk_permission_denied"),
    ("user/getUseridByUnionid", {"errcode": 60121}, "users/by-unionid/someone/", 404,
     "dingtalk_not_found"),
])
def test_directory_dingtalk_errors_map_by_class(emulator, make_app_side, endpoint, fault, path,
                                                http_status, code):
    tenant, corp, key = make_app_side(users=3)
    emulator.add_fault(endpoint, corp_id=corp["corp_id"], **fault)
    response = key_client(key).get(_base(tenant) + path.format(userid=corp["userids"][0]))
    assert response.status_code == http_status, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code
    assert error["details"]["errcode"] == fault.get("errcode", 90018)
    assert error["details"]["errmsg"]
    if http_status == 429:
        assert int(response["Retry-After"]) >= 1
    assert "Traceback" not in response.content.decode()


@pytest.mark.parametrize(("kind", "change"), [
    ("app", {"suspended": True}),
    ("suite", {"status": Tenant.Status.RELIEVED}),
    ("suite", {"status": Tenant.Status.APP_STOPPED}),
])
def test_directory_an_inactive_tenant_is_409(emulator, make_app_side, make_suite_side, kind,
                                             change):
    if kind == "app":
        tenant, corp, key = make_app_side(users=3)
        client = key_client(key)
    else:
        side = make_suite_side(tenants=1)
        tenant, corp, client = side.tenants[0], side.corps[0], side.client
    Tenant.objects.filter(pk=tenant.pk).update(**change)
    before = emulator.counters()["calls"]
    for path in ("departments/1/", f"users/{corp['userids'][0]}/", "users/count/",
                 "departments/1/members/", "auth-scopes/"):
        response = client.get(_base(tenant) + path)
        assert response.status_code == 409, (path, response.content[:300])
        assert response.json()["error"]["code"] == "tenant_inactive"
    assert emulator.counters()["calls"] == before


def test_directory_needs_a_key(emulator, make_app_side):
    tenant, _, _ = make_app_side(users=3)
    response = key_client(None).get(f"{_base(tenant)}users/count/")
    assert response.status_code == 401

"""GET /api/v1/tenants/<corp>/directory/...: the mirror's rows with an ETag (If-None-Match ->
304), synced_at and generation; 409 directory_not_synced before a first sync; keyset pages of
users; a department's members with and without its subtree; another suite's corp is a 404."""

from datetime import timedelta

import pytest

from api.services.keys import api_key_create
from core import clock
from directory.models import Department, DirectorySync, Membership, User
from tests.api.conftest import key_client
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db

# 1 > 10 > 11, 1 > 20; u1 in 10 (leader), u2 in 11, u3 in 20 and 11, u4 deleted, u0 in 1.
TREE = {1: None, 10: 1, 11: 10, 20: 1}
MEMBERS = {"u0": [1], "u1": [10], "u2": [11], "u3": [20, 11], "u4": [10]}


def _seed(tenant, *, synced=True):
    now = clock.now()
    for dept_id, parent in TREE.items():
        Department.objects.create(tenant=tenant, dept_id=dept_id, name=f"d{dept_id}",
                                  parent_id=parent, order=dept_id, manager_userids=["u1"]
                                  if dept_id == 10 else [], generation=1, updated_at=now)
    for userid, depts in MEMBERS.items():
        User.objects.create(tenant=tenant, userid=userid, unionid=f"union-{userid}",
                            name=f"name {userid}", title="t", active=True, generation=1,
                            updated_at=now, deleted_at=now if userid == "u4" else None)
        for n, dept_id in enumerate(depts):
            Membership.objects.create(tenant=tenant, userid=userid, dept_id=dept_id,
                                      order=n + 5, is_leader=userid == "u1")
    return DirectorySync.objects.create(tenant=tenant, generation=1,
                                        last_success_at=now if synced else None,
                                        finished_at=now if synced else None)


@pytest.fixture
def side():
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    client = key_client(api_key_create(name="k", suite=suite).plaintext)
    return tenant, client, f"/api/v1/tenants/{tenant.corp_id}/directory/"


def test_mirror_never_synced_is_409_and_state_says_never(side):
    tenant, client, base = side
    for path in ("departments/", "users/", "users/u1/", "departments/1/users/"):
        response = client.get(base + path)
        assert response.status_code == 409, (path, response.content[:200])
        assert response.json()["error"]["code"] == "directory_not_synced"
    state = client.get(base + "state/")
    assert state.status_code == 200
    assert state.json() == {"synced_at": None, "generation": 0, "fresh": False,
                            "status": "never", "department_count": 0, "user_count": 0}
    _seed(tenant, synced=False)  # rows written by a sync that has not finished yet
    assert client.get(base + "users/").status_code == 409


def test_mirror_departments_list_detail_and_parent_filter(side):
    tenant, client, base = side
    sync = _seed(tenant)
    response = client.get(base + "departments/")
    assert response.status_code == 200
    body = response.json()
    assert [d["id"] for d in body["results"]] == [1, 10, 11, 20]
    assert body["generation"] == 1 and body["synced_at"].startswith(
        sync.last_success_at.isoformat()[:19])
    assert response["ETag"].startswith('W/"')
    children = client.get(base + "departments/", {"parent_id": 1}).json()["results"]
    assert [d["id"] for d in children] == [10, 20]
    detail = client.get(base + "departments/10/").json()
    assert detail["department"] == {"id": 10, "name": "d10", "parent_id": 1, "order": 10,
                                    "manager_userids": ["u1"]}
    missing = client.get(base + "departments/99/")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "department_not_found"
    assert client.get(base + "departments/-3/").status_code == 400


def test_mirror_users_pages_forward_by_userid(side):
    tenant, client, base = side
    _seed(tenant)
    first = client.get(base + "users/", {"page_size": 2}).json()
    assert [u["userid"] for u in first["results"]] == ["u0", "u1"]
    assert first["previous"] is None and first["next"]
    second = client.get(first["next"]).json()
    assert [u["userid"] for u in second["results"]] == ["u2", "u3"]  # u4 is deleted
    assert second["next"] is None
    bad = client.get(base + "users/", {"cursor": "bm90LW91cnM"})
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "invalid_cursor"
    assert client.get(base + "users/", {"page_size": 0}).status_code == 400


def test_mirror_user_detail_with_departments(side):
    tenant, client, base = side
    _seed(tenant)
    user = client.get(base + "users/u3/").json()["user"]
    assert user["unionid"] == "union-u3" and user["name"] == "name u3"
    assert user["departments"] == [{"dept_id": 11, "order": 6, "is_leader": False},
                                   {"dept_id": 20, "order": 5, "is_leader": False}]
    assert client.get(base + "users/u4/").status_code == 404  # soft-deleted
    assert client.get(base + "users/nobody/").json()["error"]["code"] == "user_not_found"


def test_mirror_department_users_direct_or_subtree(side):
    tenant, client, base = side
    _seed(tenant)
    direct = client.get(base + "departments/10/users/").json()["results"]
    assert [u["userid"] for u in direct] == ["u1"]
    subtree = client.get(base + "departments/10/users/",
                         {"include_subtree": "true", "page_size": 2}).json()
    assert [u["userid"] for u in subtree["results"]] == ["u1", "u2"]
    rest = client.get(subtree["next"]).json()
    assert [u["userid"] for u in rest["results"]] == ["u3"]
    assert client.get(base + "departments/10/users/",
                      {"include_subtree": "yes"}).status_code == 400
    assert client.get(base + "departments/99/users/").status_code == 404


def test_mirror_etag_304_until_the_mirror_changes(side):
    tenant, client, base = side
    _seed(tenant)
    first = client.get(base + "users/")
    etag = first["ETag"]
    again = client.get(base + "users/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    assert client.get(base + "departments/1/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(base + "users/", HTTP_IF_NONE_MATCH='W/"other"').status_code == 200
    User.objects.filter(tenant=tenant, userid="u2").update(
        name="renamed", updated_at=clock.now() + timedelta(seconds=1))
    changed = client.get(base + "users/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "renamed" in changed.content.decode()


def test_mirror_state_counts_freshness_and_its_own_etag(side, settings):
    tenant, client, base = side
    _seed(tenant)
    state = client.get(base + "state/")
    assert state.json()["fresh"] is True and state.json()["user_count"] == 4
    assert state.json()["department_count"] == 4
    settings.DIRECTORY_FRESH_MAX_AGE = 0  # the same rows, no longer fresh
    stale = client.get(base + "state/", HTTP_IF_NONE_MATCH=state["ETag"])
    assert stale.status_code == 200 and stale.json()["fresh"] is False


def test_mirror_is_another_suites_404(side):
    tenant, _, base = side
    _seed(tenant)
    stranger = key_client(api_key_create(name="x", suite=SuiteFactory()).plaintext)
    for path in ("state/", "departments/", "users/u1/"):
        response = stranger.get(base + path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "tenant_not_found"
    assert key_client(None).get(base + "users/").status_code == 401


@pytest.mark.integration
def test_mirror_served_after_a_real_full_sync_equals_the_emulator(emulator, make_app_side):
    from directory.services.sync import sync_request, sync_run

    tenant, corp, key = make_app_side(users=130)
    client, base = key_client(key), f"/api/v1/tenants/{tenant.corp_id}/directory/"
    assert client.get(base + "users/").status_code == 409
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    world = emulator.get_corp(corp["corp_id"])
    emulator.reset_counters()
    served, url = [], base + "users/?page_size=50"
    while url:
        page = client.get(url)
        assert page.status_code == 200 and page["ETag"]
        served += page.json()["results"]
        url = page.json()["next"]
    assert not emulator.counters()["calls"]  # served from the mirror, no DingTalk call
    assert len(served) == 130
    by_id = {u["userid"]: u for u in world["users"]}
    for user in served:
        want = by_id[user["userid"]]
        assert (user["unionid"], user["name"], user["title"], user["active"]) == (
            want["unionid"], want["name"], want["position"], want["active"])
        assert [m["dept_id"] for m in user["departments"]] == sorted(want["depts"])
    state = client.get(base + "state/").json()
    assert state["fresh"] and state["user_count"] == 130 and state["generation"] == 1
    assert state["department_count"] == len(world["departments"])
    root = client.get(base + "departments/1/users/", {"include_subtree": "true",
                                                      "page_size": 200}).json()
    assert len(root["results"]) == 130


@pytest.mark.parametrize("page_size", ["0", "201", "-1", "1e2", " 5", "５", "9" * 5000])
def test_mirror_page_size_out_of_bounds_is_a_400(side, page_size):
    tenant, client, base = side
    _seed(tenant)
    response = client.get(base + "users/", {"page_size": page_size})
    assert response.status_code == 400, response.content[:200]
    assert "page_size" in response.json()["error"]["details"]

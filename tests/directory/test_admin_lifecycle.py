"""The directory's admin pages (sync state with "sync now", read-only mirror lists), its part
of the tenant data lifecycle (export and delete), the selectors' freshness rule, and pacing."""

import time
import uuid

import pytest

from core import clock
from directory import selectors
from directory.models import Department, DirectorySync, Membership, User
from directory.pacing import pace
from directory.services.sync import sync_request, sync_run
from tenants.lifecycle import parts
from tests.conftest import advance_time

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def mirrored(emulator, make_app):
    tenant, corp, _ = make_app(users=30)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    return tenant


def test_admin_shows_the_sync_and_sync_now_queues_it(admin_client, mirrored):
    sync = DirectorySync.objects.get(tenant=mirrored)
    page = admin_client.get("/admin/directory/directorysync/").content.decode()
    assert mirrored.corp_id in page and f"added {sync.drift['added']}, changed 0" in page
    for path in ("/admin/directory/department/", "/admin/directory/user/",
                 f"/admin/directory/directorysync/{sync.pk}/change/",
                 f"/admin/directory/department/?tenant__id__exact={mirrored.pk}"):
        assert admin_client.get(path).status_code == 200, path
    assert admin_client.get("/admin/directory/user/add/").status_code == 403
    response = admin_client.post("/admin/directory/directorysync/",
                                 {"action": "sync_now", "_selected_action": [sync.pk]})
    assert response.status_code == 302
    sync.refresh_from_db()
    assert (sync.status, sync.reason) == (DirectorySync.Status.QUEUED, "admin")


def test_lifecycle_exports_and_deletes_the_mirror(mirrored):
    part = next(p for p in parts() if p.name == "directory")
    exported = part.export(mirrored)
    assert len(exported["directory.User"]) == 30
    assert {"directory.Department", "directory.Membership", "directory.DirectorySync"} <= set(
        exported)
    counts = part.delete(mirrored)
    assert counts["directory.User"] == 30
    for model in (Department, User, Membership, DirectorySync):
        assert not model.objects.filter(tenant=mirrored).exists()


def test_the_mirror_is_fresh_only_after_a_recent_success(emulator, settings, mirrored):
    assert selectors.mirror_state(tenant=mirrored).fresh
    assert selectors.dept_member_userids(tenant=mirrored, dept_ids=[1]) is not None
    DirectorySync.objects.filter(tenant=mirrored).update(last_failure_at=clock.now())
    assert not selectors.mirror_state(tenant=mirrored).fresh
    assert selectors.dept_member_userids(tenant=mirrored, dept_ids=[1]) is None
    DirectorySync.objects.filter(tenant=mirrored).update(last_failure_at=None)
    advance_time(emulator, settings.DIRECTORY_FRESH_MAX_AGE + 1)
    assert selectors.dept_member_userids(tenant=mirrored, dept_ids=[1]) is None


def test_dept_member_userids_covers_the_subtree(emulator, mirrored):
    everyone = selectors.dept_member_userids(tenant=mirrored, dept_ids=[1])
    assert len(everyone) == 30
    direct = selectors.dept_member_userids(tenant=mirrored, dept_ids=[1], include_subtree=False)
    assert direct < everyone
    page = selectors.users(tenant=mirrored, limit=10)
    rest = selectors.users(tenant=mirrored, after_userid=page[-1].userid, limit=100)
    assert len(page) + len(rest) == 30 and all(u.memberships for u in page)


@pytest.mark.parametrize("redis_url", ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:1/0"])
def test_pacing_holds_calls_to_the_rate(settings, redis_url):
    # Without Redis (the second URL refuses connections) each process paces alone.
    settings.REDIS_URL = redis_url
    key = f"test-{uuid.uuid4().hex}"
    started = time.monotonic()
    for _ in range(11):
        pace(key, "topapi/v2/user/list", rate=5)
    # 11 calls at 5 per second span three one-second windows: past a whole second.
    assert time.monotonic() - started > 1.0

"""The issue's figure: a 5,000-user, 300-department corp mirrored exactly (field by field with
the emulator's state), with the emulator's rate limits on (20 QPS per app per API): the sync's
pacing keeps it under them, so no call is throttled."""

import time

import pytest

from directory.models import DirectorySync
from directory.services.sync import sync_request, sync_run
from tests.directory.mirror import actual_mirror, diff, expected_mirror
from tests.tenants.conftest import unique_corp_id

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_5000_user_300_department_corp_is_mirrored_exactly(emulator, make_app, capsys):
    corp = emulator.create_corp(users=5000, depts=300, corp_id=unique_corp_id())
    tenant, _, _ = make_app(corp=corp)
    emulator.set_config(rate_limits_enabled=True)
    sync_request(tenant=tenant, reason="test")
    started = time.monotonic()
    assert sync_run(tenant_id=tenant.pk) == "done"
    seconds = time.monotonic() - started
    world = emulator.get_corp(corp["corp_id"])
    assert len(world["departments"]) == 301 and len(world["users"]) == 5000
    problems = diff(expected_mirror(world), actual_mirror(tenant))
    assert not problems, problems
    sync = DirectorySync.objects.get(tenant=tenant)
    assert (sync.department_count, sync.user_count) == (301, 5000)
    errcodes = emulator.counters()["errcodes"]
    assert not {"90018", "90002"} & set(errcodes), errcodes
    with capsys.disabled():
        print(f"\n5,000 users / 301 departments: {sync.calls} calls in {seconds:.1f} s")

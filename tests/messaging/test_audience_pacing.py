"""The live department walk is paced in the directory sync's window: with the emulator's rate
limits on, a walk bigger than one second's budget, run while a sync-like caller of the same app
spends the same APIs' budget, gets no 90018 and is spread over the seconds it needs."""

import math
import threading
import time

import pytest
import requests

from directory.pacing import pace
from directory.services.calls import app_key
from messaging.services.audience import audience_expand
from tenants.services.clients import corp_client
from tests.tenants.conftest import unique_corp_id

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

LISTSUB = "topapi/v2/department/listsub"
QPS = 3
SYNC_CALLS = 6


def test_live_walk_shares_the_sync_window_and_is_not_throttled(emulator, make_app, settings):
    corp = emulator.create_corp(users=30, depts=8, corp_id=unique_corp_id())
    tenant, _, _ = make_app(corp=corp)
    depts = len(emulator.get_corp(corp["corp_id"], users=False)["departments"])
    assert depts > QPS  # more than one second's budget
    settings.DIRECTORY_SYNC_QPS = QPS
    # DingTalk's limit just above the pace: two unshared windows together would pass it.
    emulator.set_config(rate_limits_enabled=True, app_api_qps=QPS + 1)
    token = corp_client(tenant).access_token().value
    emulator.reset_counters()

    def sync_like() -> None:
        # What a directory sync of the same app does: pace by the app's key, then call.
        for _ in range(SYNC_CALLS):
            pace(app_key(tenant), LISTSUB)
            requests.post(f"{emulator.base_url}/{LISTSUB}", params={"access_token": token},
                          json={"dept_id": 1}, timeout=10)

    competitor = threading.Thread(target=sync_like)
    started = time.monotonic()
    competitor.start()
    audience = audience_expand(tenant=tenant, userids=[], dept_ids=[], to_all_user=True)
    competitor.join(timeout=60)
    elapsed = time.monotonic() - started
    counters = emulator.counters()
    assert not {"90018", "90002"} & set(counters["errcodes"]), counters["errcodes"]
    assert counters["calls"][LISTSUB] == depts + SYNC_CALLS
    # QPS calls a wall-clock second at most: n calls fill ceil(n / QPS) seconds, so the first
    # and the last are more than ceil(n / QPS) - 2 s apart (unpaced they take a fraction of one).
    assert elapsed > math.ceil((depts + SYNC_CALLS) / QPS) - 2, elapsed
    world = emulator.get_corp(corp["corp_id"])
    assert set(audience.userids) == {u["userid"] for u in world["users"]}
    assert audience.dept_errors == []

"""The admin's limiter usage page: a superuser sees each suite's and internal app's rules as
used / limit and when the oldest admission frees, on either backend; Redis down shows
"unavailable", not an error."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from messaging import admin_limiter
from messaging import limiter as limiter_pkg
from messaging.limiter import acquire, notice_send_rules
from tests.tenants.factories import InternalAppFactory, SuiteFactory, TenantFactory

from .limiter_support import delete_own_keys
from .test_limiter_outage import dead_redis_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

T = 1_700_000_000_000
ROW = re.compile(r'<code>([^<]+)</code></td>\s*<td class="limiter-used">([^<]+)</td>\s*'
                 r'<td>[^<]*</td>\s*<td class="limiter-frees">([^<]+)</td>')


@pytest.fixture(params=["redis", "database"])
def clock_at(request, settings, monkeypatch):
    """The limiter the page reads (Redis under this test's own key prefix, or the database),
    its clock at T + clock_at[0] ms."""
    if request.param == "database":
        settings.REDIS_URL = ""
    else:
        settings.MESSAGING_LIMITER_REDIS_PREFIX = f"test-admin-limiter-{uuid.uuid4().hex[:10]}:"
    offset = [0]
    for module in ("database", "redis_backend"):
        monkeypatch.setattr(f"messaging.limiter.{module}.now_ms", lambda: T + offset[0])
    yield offset
    if request.param == "redis":
        delete_own_keys(limiter_pkg.limiter())


def _page(client) -> tuple[str, dict[str, tuple[str, str]]]:
    response = client.get(reverse("admin:messaging_limiterusage_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    return html, {key: (used, frees) for key, used, frees in ROW.findall(html)}


def test_admin_limiter_page_shows_used_of_limit_and_frees_in(admin_client, clock_at, settings):
    settings.MESSAGING_LIMIT_SMOOTH_S = 6  # smoothing twins of 5 batches: 500 per 6.1 s
    suite = SuiteFactory()
    acme = TenantFactory(suite=suite, corp_name="Acme")
    globex = TenantFactory(suite=suite, corp_name="Globex")
    app = InternalAppFactory(corp_name="Initech", app_name="HR bot")
    key = suite.suite_key
    assert acquire(notice_send_rules(app_key=key, corp_id=acme.corp_id, suite_key=key), 7).allowed
    clock_at[0] = 5_000
    assert acquire(notice_send_rules(app_key=key, corp_id=globex.corp_id, suite_key=key),
                   5).allowed
    assert acquire(notice_send_rules(app_key=app.appkey, corp_id=app.corp_id, suite_key=None),
                   3).allowed
    clock_at[0] = 5_500
    _, rows = _page(admin_client)
    assert rows[f"notice:suite:{key}:smooth"] == ("12 / 500", "0.6 s")
    assert rows[f"notice:corp:{app.corp_id}:smooth"] == ("3 / 500", "5.6 s")
    clock_at[0] = 15_000
    html, rows = _page(admin_client)
    # Per-minute rules have 61 s windows (a 1 s margin), the egress budget 20 s.
    assert rows[f"notice:suite:{key}"] == ("12 / 5,000", "46.0 s")
    assert rows[f"notice:app:{key}:corp:{acme.corp_id}"] == ("7 / 5,000", "46.0 s")
    assert rows[f"notice:app:{key}:corp:{globex.corp_id}"] == ("5 / 5,000", "51.0 s")
    assert rows[f"notice:app:{app.appkey}:corp:{app.corp_id}"] == ("3 / 5,000", "51.0 s")
    assert rows[f"notice:corp:{app.corp_id}"] == ("3 / 5,000", "51.0 s")
    # The shared budgets' smoothing twins (the same rate in whole batches: 500 in 6.1 s) have
    # let go.
    assert rows[f"notice:suite:{key}:smooth"] == ("0 / 500", "-")
    assert rows[f"notice:corp:{app.corp_id}:smooth"] == ("0 / 500", "-")
    egress = [k for k in rows if k.startswith("egress:")]
    assert len(egress) == 1 and rows[egress[0]][0].startswith("3 / ")
    assert rows[egress[0]][1] == "5.0 s"
    assert "Acme: recipients per minute (143203)" in html and "HR bot in Initech" in html
    clock_at[0] = 61_000  # the first send has left its windows
    _, rows = _page(admin_client)
    assert rows[f"notice:suite:{key}"] == ("5 / 5,000", "5.0 s")
    assert rows[f"notice:app:{key}:corp:{acme.corp_id}"] == ("0 / 5,000", "-")
    assert "Limiter usage" in admin_client.get(reverse("admin:index")).content.decode()


def test_admin_limiter_page_caps_a_suites_corps(admin_client, clock_at):
    suite = SuiteFactory()
    corps = TenantFactory.create_batch(admin_limiter.TENANTS_SHOWN + 1, suite=suite)
    html, rows = _page(admin_client)
    assert f"Showing the 50 most recently created of {len(corps)} authorized corps" in html
    shown = {k.rsplit(":", 1)[1] for k in rows if k.startswith(f"notice:app:{suite.suite_key}:")}
    assert len(shown) == 50 and corps[0].corp_id not in shown and corps[-1].corp_id in shown


def test_admin_limiter_page_says_unavailable_when_redis_is_down(admin_client, settings):
    settings.REDIS_URL = dead_redis_url()
    settings.MESSAGING_LIMITER_REDIS_TIMEOUT_S = 0.2
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    html, rows = _page(admin_client)
    assert "The limiter is unavailable" in html
    assert rows[f"notice:app:{suite.suite_key}:corp:{tenant.corp_id}"] == (
        "unavailable", "unavailable")


def test_admin_limiter_page_is_for_staff_only(client):
    response = client.get(reverse("admin:messaging_limiterusage_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]

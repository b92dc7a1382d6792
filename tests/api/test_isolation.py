"""The isolation matrix: a key of suite A against every tenant route with suite B's corp id
(and an internal app's key against another corp) is answered 404, exactly like a corp that does
not exist, for every method the route has. The routes are read from the URL resolver, so an
endpoint added later is covered without editing this test."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from api.services.keys import api_key_create
from tests.api.conftest import key_client
from tests.tenants.factories import InternalAppFactory, SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db

_METHODS = ("get", "post", "put", "patch", "delete")


def _tenant_routes() -> list[tuple[str, object]]:
    """(path template, view class) of every route with <corp_id> under /api/."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if "<str:corp_id>" in route and route.startswith("api/"):
                    found.append((route, p.callback.view_class))

    walk(get_resolver().url_patterns, "")
    return found


def _fill(route: str, corp_id: str) -> str:
    path = route.replace("<str:corp_id>", corp_id)
    return "/" + re.sub(r"<(?:\w+:)?\w+>", "1", path)


def test_isolation_there_are_tenant_routes_to_check():
    assert len(_tenant_routes()) >= 1


@pytest.mark.parametrize(("route", "view"), _tenant_routes(),
                         ids=[r for r, _ in _tenant_routes()])
def test_isolation_another_suites_tenant_is_not_found(route, view):
    suite_a, suite_b = SuiteFactory(), SuiteFactory()
    TenantFactory(suite=suite_a)
    theirs = TenantFactory(suite=suite_b)
    app_key = api_key_create(name="app", app=InternalAppFactory()).plaintext
    clients = [key_client(api_key_create(name="a", suite=suite_a).plaintext), key_client(app_key)]
    methods = [m for m in _METHODS if hasattr(view, m)]
    assert methods
    for client in clients:
        for method in methods:
            for corp_id in (theirs.corp_id, "ding-no-such-corp"):
                response = getattr(client, method)(_fill(route, corp_id), {}, format="json")
                assert response.status_code == 404, (method, route, response.content[:200])
                assert response.json()["error"]["code"] == "tenant_not_found"

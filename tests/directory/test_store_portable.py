"""The mirror's upserts on SQLite (the quick start's demo) follow the same rules as the
PostgreSQL statement: the same sequence of writes through both paths, into two tenants, gives
the same rows and the same account of what was inserted, changed and applied."""

from datetime import timedelta

import pytest

from core import clock
from directory.models import Department, User
from directory.services import store
from directory.services.convert import ABSENT, DeptFields, UserFields
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

DEPT_FIELDS = ("dept_id", "name", "parent_id", "order", "manager_userids", "generation",
               "deleted_at", "modified_ms", "synced_at", "updated_at")
USER_FIELDS = ("userid", "unionid", "name", "title", "avatar", "active", "is_admin", "is_boss",
               "is_senior", "generation", "deleted_at", "modified_ms", "synced_at", "updated_at")


def _user(userid, name, *, is_senior=None, active=True):
    return UserFields(userid=userid, unionid=f"union-{userid}", name=name, title="工程师",
                      avatar="", active=active, is_admin=False, is_boss=False,
                      is_senior=is_senior, memberships={1: (0, False)})


def _steps(now):
    """(kind, items, kwargs) writes, each at its own time: inserts, a newer change with its
    parent left out (kept), an older state that must lose, is_senior left out (kept), an
    unchanged re-sync, an inactive user."""
    steps = [
        ("depts", [DeptFields(2, "研发", 1, 10, ["u1"]), DeptFields(3, "市场", 1, 20, [])],
         dict(generation=1, modified_ms=1000, synced=True)),
        ("users", [_user("u1", "张三", is_senior=True), _user("u2", "李四")],
         dict(generation=1, modified_ms=1000, synced=True)),
        ("depts", [DeptFields(2, "研发中心", ABSENT, 11, ["u1", "u2"])],
         dict(modified_ms=2000)),
        ("depts", [DeptFields(2, "旧名字", 1, 1, [])], dict(modified_ms=1500)),
        ("users", [_user("u1", "张三")], dict(modified_ms=2000)),
        ("users", [_user("u2", "李四")], dict(generation=2, modified_ms=2000,
                                             synced=True)),
        ("users", [_user("u3", "王五", active=False)], dict(modified_ms=900)),
    ]
    # One write per instant, as in use: the PostgreSQL statement tells "changed" by
    # updated_at = now, so two writes at the same instant would blur it.
    return [(kind, items, dict(kwargs, now=now + timedelta(seconds=i)))
            for i, (kind, items, kwargs) in enumerate(steps)]


def _run(tenant, *, now, portable, monkeypatch):
    if portable:
        monkeypatch.setattr(store.connection, "vendor", "sqlite")
    accounts = []
    for kind, items, kwargs in _steps(now):
        upsert = store.depts_upsert if kind == "depts" else store.users_upsert
        written = upsert(tenant=tenant, **{kind: items}, **kwargs)
        accounts.append((sorted(written.inserted), sorted(written.changed),
                         sorted(written.applied)))
    monkeypatch.undo()
    rows = (
        [tuple(getattr(d, f) for f in DEPT_FIELDS)
         for d in Department.objects.filter(tenant=tenant).order_by("dept_id")],
        [tuple(getattr(u, f) for f in USER_FIELDS)
         for u in User.objects.filter(tenant=tenant).order_by("userid")])
    return accounts, rows


def test_store_portable_upserts_match_the_postgresql_statement(monkeypatch):
    now = clock.now()
    postgres = _run(TenantFactory(), now=now, portable=False, monkeypatch=monkeypatch)
    portable = _run(TenantFactory(), now=now, portable=True, monkeypatch=monkeypatch)
    assert portable == postgres
    depts = dict((row[0], row) for row in postgres[1][0])
    assert depts[2][1:5] == ("研发中心", 1, 11, ["u1", "u2"])  # newer won, parent kept
    users = dict((row[0], row) for row in postgres[1][1])
    assert users["u1"][8] is True  # is_senior left out: kept
    assert postgres[0][3] == ([], [], [])  # the older department state did not apply

"""Shared pytest fixtures: a DingTalk emulator on a free port, reset before every test, and the
one helper that moves time (dingsuite's clock and the emulator's together)."""

import pytest

from core import clock
from dingtalk.emulator import EmulatorConfig, EmulatorControl, EmulatorServer


@pytest.fixture(scope="session")
def emulator_server():
    """One emulator per test session, served by werkzeug in a background thread."""
    server = EmulatorServer(EmulatorConfig(seed=1234))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server) -> EmulatorControl:
    """A fresh world for each test: the EmulatorControl's `.base_url` is oapi.dingtalk.com."""
    control = EmulatorControl(emulator_server.base_url)
    control.reset()
    yield control
    control.session.close()


def advance_time(emulator: EmulatorControl | None, seconds: float) -> None:
    """Move dingsuite's clock (this process and the test Celery workers) and the emulator's."""
    if emulator is not None:
        emulator.advance(seconds)
    clock.advance(seconds)


@pytest.fixture(autouse=True)
def _clock_back_to_real_time():
    """Every test starts on the host's time; a test that moved the clock puts it back."""
    if clock.offset():
        clock.reset()
    yield
    if clock.offset():
        clock.reset()


@pytest.fixture(autouse=True)
def _session_worker_idle_before_flush(request):
    """Once the session's Celery worker runs, this process publishes to it for the rest of the
    session, whether a test asked for the worker or not: a transactional test's tasks could
    still be running when its database is flushed, and the flush's TRUNCATE can deadlock with
    them. So after every transactional test the worker is left idle (queues purged, countdowns
    revoked, running tasks awaited). Asking for `transactional_db` here makes this teardown run
    before the flush."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction")
                                     or (marker.args and marker.args[0]))) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames))
    if transactional:
        request.getfixturevalue("transactional_db")
    yield
    if transactional:
        from tests.tenants.conftest import session_worker_quiesce

        session_worker_quiesce()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before it is dropped, no session left on it.

    Threads that tests start (lock holders, lease renewals, limiter hammers) can leave a
    connection open past their test; PostgreSQL then refuses to drop the database. Only this
    run's own test database is touched.
    """
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")

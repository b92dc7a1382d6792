"""Fixtures for the messaging tests: the tenants app's emulator-backed tenants and its worker."""

import uuid

import pytest

from tests.tenants.conftest import (  # noqa: F401
    celery_session_worker,
    celery_worker,
    dingtalk_at_emulator,
    make_app,
    make_suite,
)


@pytest.fixture(autouse=True)
def _own_limiter_keys(settings):
    """Each test's limiter keys are its own. The emulator gives each test's first corp the
    same id and the clock goes back to real time between tests, so admissions an earlier test
    made (possibly stamped on its advanced clock) would still count under shared keys. The
    keys expire with their windows. (The session's Celery worker keeps the run's prefix.)"""
    settings.MESSAGING_LIMITER_REDIS_PREFIX = (
        f"{settings.MESSAGING_LIMITER_REDIS_PREFIX}{uuid.uuid4().hex[:10]}:")

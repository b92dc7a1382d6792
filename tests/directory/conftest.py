"""Fixtures for the directory tests: the tenants app's emulator-backed suites and apps, and the
session's Celery worker."""

from tests.tenants.conftest import (  # noqa: F401
    celery_session_worker,
    celery_worker,
    dingtalk_at_emulator,
    make_app,
    make_suite,
)

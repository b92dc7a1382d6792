"""Fixtures for the messaging tests: the tenants app's emulator-backed tenants and its worker."""

from tests.tenants.conftest import (  # noqa: F401
    celery_worker,
    dingtalk_at_emulator,
    make_app,
    make_suite,
)

"""Fixtures for the messaging tests: the tenants app's emulator-backed tenants."""

from tests.tenants.conftest import dingtalk_at_emulator, make_app, make_suite  # noqa: F401

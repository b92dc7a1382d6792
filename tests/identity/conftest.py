"""Fixtures for the identity tests: the tenants app's emulator-backed suites and apps."""

from tests.tenants.conftest import dingtalk_at_emulator, make_app, make_suite  # noqa: F401

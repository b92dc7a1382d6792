"""Fixtures shared by the emulator tests (the `emulator` fixture itself is in tests/conftest.py)."""

import pytest
from pusher_helpers import Receiver


@pytest.fixture(scope="module")
def receiver():
    """An ISV callback endpoint, one per test module (tests reset it with make_suite)."""
    server = Receiver()
    yield server
    server.server.shutdown()

"""Shared pytest fixtures: a DingTalk emulator on a free port, reset before every test."""

import pytest

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

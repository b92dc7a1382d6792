"""An offline DingTalk (oapi.dingtalk.com) for tests, demos and benchmarks; see docs/emulator.md."""

from .app import Emulator
from .clock import Clock
from .config import EmulatorConfig
from .control_client import EmulatorControl
from .server import EmulatorServer

__all__ = ["Clock", "Emulator", "EmulatorConfig", "EmulatorControl", "EmulatorServer"]

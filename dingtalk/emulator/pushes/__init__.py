"""Callback pushes to ISV suites: events, payloads, delivery, the pusher and its control routes."""

from .config import PusherConfig
from .events import PUSH_KINDS, PushEvent
from .pusher import Pusher, PushRecord

__all__ = ["PUSH_KINDS", "PushEvent", "PushRecord", "Pusher", "PusherConfig"]

# Importing the package (as the emulator app does) registers its control routes.
from . import control  # noqa: E402, F401

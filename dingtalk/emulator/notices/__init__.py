"""Work notifications in the emulator: engine, quotas and HTTP handlers (PROTOCOL 3)."""

from .config import NoticeConfig
from .directory import DictDirectory, Directory
from .engine import NoticeEngine
from .errors import NoticeError
from .quotas import Forbidden, Sender

__all__ = [
    "DictDirectory", "Directory", "Forbidden", "NoticeConfig", "NoticeEngine", "NoticeError",
    "Sender",
]


# Importing the package (as the emulator app does) registers the HTTP and control routes.
from . import handlers  # noqa: E402, F401

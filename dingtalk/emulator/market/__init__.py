"""The app market (PROTOCOL-ISV 3): orders pushed through the control API, and the order
and in-app endpoints."""

from .book import MarketBook, market_for
from .config import MarketConfig

__all__ = ["MarketBook", "MarketConfig", "market_for"]

# Importing the package (as the emulator app does) registers its API and control routes.
from . import control, handlers  # noqa: E402, F401

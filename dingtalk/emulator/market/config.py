"""Market settings: the UNCERTAIN choices of PROTOCOL-ISV 3 (`set_config {"market": {...}}`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import ConfigSection

_CHOICES = {"order_table": ("high", "medium"), "refund_pushes": ("37", "212", "both")}


@dataclass
class MarketConfig(ConfigSection):
    """Which SyncHTTP table an order lands in, how a refund is pushed, and the rest."""

    # biz_type 17: open_sync_biz_data (high) per KB-EV/0005 and 0368, the medium table per
    # KB-EV/0186 and KB/0878 (PROTOCOL-ISV 3.2 UNCERTAIN); the data-format page wins.
    order_table: str = "high"
    # A refund arrives as 37 market_service_close (closeType 3), as 212, or as both.
    refund_pushes: str = "both"
    # 37, 212 and 63 are SyncHTTP rows; the legacy HTTP push documents only market_buy. True
    # pushes them to HTTP-push suites too, under their syncAction as EventType (a choice).
    http_market_events: bool = True
    # in-app unfinishedorder/list: the doc names the suite token, its neighbours the corp
    # token (UNCERTAIN); the emulator answers a corp token, and 41001 etc. otherwise.
    page_size_max: int = 100

    @classmethod
    def check(cls, changes, prefix: str = "") -> None:
        super().check(changes, prefix)
        for key, allowed in _CHOICES.items():
            if key in changes and changes[key] not in allowed:
                raise ValueError(f"{prefix}{key} must be one of {', '.join(allowed)}")


def market_config(values: dict) -> MarketConfig:
    """The settings from the emulator config's `market` dict (changed keys only)."""
    return MarketConfig.from_dict(values)

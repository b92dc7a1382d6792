"""Pusher settings: deadlines, retries and the suite_ticket schedule (PROTOCOL 7, 8)."""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import ConfigSection


@dataclass
class PusherConfig(ConfigSection):
    """Pusher settings (`set_config {"pusher": {...}}`); times are emulated seconds."""

    ticket_interval_s: float = 1200.0  # 2016 docs: every 20 minutes; 0 turns the schedule off
    http_deadline_s: float = 1.5
    sync_http_deadline_s: float = 1.2
    retry_base_s: float = 1.0
    retry_factor: float = 2.0
    retry_cap_s: float = 60.0
    max_pushes: int = 100
    verify_reply_signature: bool = True
    # A newer ticket makes retrying an older one pointless: it is superseded.
    stop_superseded_tickets: bool = True
    workers: int = 4

    def retry_delay_s(self, attempts: int) -> float:
        """Delay before push number attempts+1: base, then doubling, capped."""
        return min(self.retry_cap_s, self.retry_base_s * self.retry_factor ** (attempts - 1))

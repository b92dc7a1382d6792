"""Pusher settings: deadlines, retries and the suite_ticket schedule (PROTOCOL 7, 8)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields

log = logging.getLogger("dingtalk.emulator.pusher")


@dataclass
class PusherConfig:
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

    @classmethod
    def from_dict(cls, values: dict) -> PusherConfig:
        """Known keys only: a typo in set_config must not stop the pusher's thread."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            log.warning("ignoring unknown pusher config keys: %s", ", ".join(unknown))
        return cls(**{k: v for k, v in values.items() if k in known})

    def as_dict(self) -> dict:
        return asdict(self)

    def retry_delay_s(self, attempts: int) -> float:
        """Delay before push number attempts+1: base, then doubling, capped."""
        return min(self.retry_cap_s, self.retry_base_s * self.retry_factor ** (attempts - 1))

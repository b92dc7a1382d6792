"""Pusher settings: deadlines, retries and the suite_ticket schedule (PROTOCOL 7, 8)."""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import ConfigSection

_CHOICES = {"contact_remove_form": ("bare", "ids"), "contact_http_form": ("legacy", "new")}


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
    # Contact rows (biz_type 13 / 14, PROTOCOL-ISV 4.3). A leave / remove row carries ids
    # only, in one of the two documented forms: "bare" ({"syncAction"}, the SyncHTTP
    # data-format page) or "ids" ({eventId, syncAction, userId | deptId}, the event page).
    contact_remove_form: str = "bare"
    # HTTP-push contact events: "legacy" ({EventType, TimeStamp, CorpId, UserId[]}) or "new"
    # ({EventType, EventTime, CorpId, BizId, eventId, userId[]}); both carry ids only.
    contact_http_form: str = "legacy"
    # Delivery faults for every contact push (a control call can also ask for one push):
    # SyncHTTP has no delivery guarantee, so a mirror must survive all three.
    contact_duplicate: bool = False  # pushed twice, same rows, same eventIds
    contact_drop: bool = False  # the change is applied but its push is never sent
    contact_hold: bool = False  # kept until POST /_emulator/pushes/release

    @classmethod
    def check(cls, changes, prefix: str = "") -> None:
        super().check(changes, prefix)
        for key, allowed in _CHOICES.items():
            if key in changes and changes[key] not in allowed:
                raise ValueError(f"{prefix}{key} must be one of {', '.join(allowed)}")

    def retry_delay_s(self, attempts: int) -> float:
        """Delay before push number attempts+1: base, then doubling, capped."""
        return min(self.retry_cap_s, self.retry_base_s * self.retry_factor ** (attempts - 1))

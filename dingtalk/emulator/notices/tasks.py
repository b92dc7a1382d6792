"""A sent work notification: its recipients' fates, its pace in emulated time, its results."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .quotas import Forbidden


@dataclass
class Task:
    """One asyncsend_v2 / sendbytemplate call; recipients are processed in `order`."""

    task_id: int
    corp_id: str
    app_key: str
    agent_id: int
    created_ms: int
    start_ms: int
    rate_per_s: float
    msgtype: str
    order: list[str]
    outcome: dict[str, Forbidden | None]
    failed: set[str] = field(default_factory=set)
    invalid_users: list[str] = field(default_factory=list)
    invalid_depts: list[int] = field(default_factory=list)
    read_fraction: float = 0.0
    read_after_ms: int = 60_000
    marked_read: set[str] = field(default_factory=set)
    status_bar: dict | None = None
    recalled: bool = False

    def processed(self, now_ms: int) -> int:
        """How many recipients (in order) DingTalk has dealt with by now."""
        if now_ms < self.start_ms:
            return 0
        if self.rate_per_s <= 0:
            return len(self.order)
        return min(len(self.order), int((now_ms - self.start_ms) * self.rate_per_s // 1000))

    def processed_at(self, index: int) -> int:
        if self.rate_per_s <= 0:
            return self.start_ms
        return self.start_ms + int(-(-(index + 1) * 1000 // self.rate_per_s))

    def progress(self, now_ms: int) -> dict:
        total, done = len(self.order), self.processed(now_ms)
        if total == 0 or done >= total:
            return {"progress_in_percent": 100, "status": 2}
        if now_ms < self.start_ms:
            return {"progress_in_percent": 0, "status": 0}
        return {"progress_in_percent": done * 100 // total, "status": 1}

    def _reads_on_its_own(self, userid: str) -> bool:
        """Deterministic choice of the auto-reading fraction (same task+user, same answer)."""
        if self.read_fraction <= 0:
            return False
        digest = hashlib.sha256(f"{self.task_id}:{userid}".encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.read_fraction

    def is_read(self, index: int, userid: str, now_ms: int) -> bool:
        if userid in self.marked_read:
            return True
        return self._reads_on_its_own(userid) and now_ms >= (
            self.processed_at(index) + self.read_after_ms
        )

    def delivered(self) -> list[str]:
        return [u for u in self.order if self.outcome.get(u) is None and u not in self.failed]

    def send_result(self, now_ms: int) -> dict:
        """getsendresult's send_result: only recipients processed so far have a fate."""
        read, unread, forbidden, failed, reasons = [], [], [], [], []
        for index, userid in enumerate(self.order[: self.processed(now_ms)]):
            verdict = self.outcome.get(userid)
            if verdict is not None:
                forbidden.append(userid)
                reasons.append({"code": str(verdict.code), "count": verdict.count,
                                "userid": userid})
            elif userid in self.failed:
                failed.append(userid)
            elif self.is_read(index, userid, now_ms):
                read.append(userid)
            else:
                unread.append(userid)
        return {
            "invalid_user_id_list": list(self.invalid_users),
            "forbidden_user_id_list": forbidden,
            "failed_user_id_list": failed,
            "read_user_id_list": read,
            "unread_user_id_list": unread,
            "invalid_dept_id_list": list(self.invalid_depts),
            "forbidden_list": reasons,
        }

    def summary(self, now_ms: int) -> dict:
        """The control API's view of a task (GET /_emulator/notices/tasks/<id>)."""
        return {
            "task_id": self.task_id, "corp_id": self.corp_id, "app_key": self.app_key,
            "agent_id": self.agent_id, "created_ms": self.created_ms, "msgtype": self.msgtype,
            "recipients": len(self.order), "recalled": self.recalled,
            "status_bar": self.status_bar, "progress": self.progress(now_ms),
            "send_result": self.send_result(now_ms),
        }

"""The work-notification engine: send, progress, result, recall, status bar, mark read."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable

from .config import NoticeConfig
from .directory import Directory
from .errors import NoticeError
from .msg import canonical, media_id_of, parse_msg, status_bar_of
from .quotas import DAY_MS, QuotaBook, Sender
from .recipients import Recipients, resolve
from .tasks import Task

TASK_ID_BASE = 256_271_667_526  # the shape of DingTalk's example task_id (PROTOCOL 3.1)
STATUS_BAR_DAYS = 7
_PLAIN = ("delivered", "failed", "invalid")


class NoticeEngine:
    """All work-notification state of one emulator, guarded by one lock.

    `clock` returns emulated epoch milliseconds. Quotas are decided when the call is accepted
    (the emulated time of the call); delivery then advances at the configured pace.
    """

    def __init__(self, *, clock: Callable[[], int], directory: Directory,
                 config: NoticeConfig | None = None,
                 on_count: Callable[[str, int, Sender], None] | None = None):
        self.clock = clock
        self.directory = directory
        self.config = config or NoticeConfig()
        self.on_count = on_count
        # The emulator's binding keeps this equal to its core `foreign_agent_errcode`.
        self.wrong_agent_errcode = 40056
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.tasks: dict[int, Task] = {}
            self.quotas = QuotaBook(self.config)
            self.counts: Counter = Counter()
            self._next_id = TASK_ID_BASE
            self._swept_ms = 0

    # -- sending -----------------------------------------------------------------------------

    def send(self, sender: Sender, *, agent_id, userid_list=None, dept_id_list=None,
             to_all_user=False, msg=None, code: int = 40035,
             directory: Directory | None = None,
             media_known: Callable[[object], bool] | None = None) -> int:
        """asyncsend_v2: validate, resolve, apply quotas, return the task id at once.

        `media_known(media_id)` says whether the sender's corp uploaded that media; without
        it (the engine alone knows no uploads) any media_id is taken.
        """
        self.check_agent(sender, agent_id)
        cfg = self.config
        message = parse_msg(msg, max_bytes=cfg.msg_max_bytes, param_code=code)
        if media_known is not None and cfg.media_id_errcode is not None:
            media_id = media_id_of(message)
            if media_id is not None and not media_known(media_id):
                raise NoticeError(cfg.media_id_errcode)
        users = _split(userid_list, code, str)
        depts = _split(dept_id_list, code, int)
        to_all = _flag(to_all_user, code)
        _check_lengths(users, depts, cfg.max_userids, cfg.max_dept_ids, code)
        bar = status_bar_of(message)
        if bar is not None and (to_all or depts or len(users) > cfg.status_bar_max_userids):
            raise NoticeError(code, "status_bar仅支持userid_list且不超过5人")
        return self._accept(sender, users=users, depts=depts, to_all=to_all, code=code,
                            content=canonical(message), msgtype=message["msgtype"],
                            status_bar=bar, directory=directory)

    def send_by_template(self, sender: Sender, *, agent_id, template_id, templates: dict,
                         userid_list=None, dept_id_list=None, data=None,
                         code: int = 400002, directory: Directory | None = None) -> int:
        """sendbytemplate (ISV only): like send, with the message named by a template."""
        self.check_agent(sender, agent_id)
        if not sender.is_isv:
            raise NoticeError(60011)
        if not template_id or str(template_id) not in templates:
            raise NoticeError(885001)
        variables = _template_data(data, code)
        users = _split(userid_list, code, str)
        depts = _split(dept_id_list, code, int)
        cfg = self.config
        _check_lengths(users, depts, cfg.max_template_userids, cfg.max_template_dept_ids, code)
        content = canonical({"template_id": str(template_id), "data": variables})
        return self._accept(sender, users=users, depts=depts, to_all=False, code=code,
                            content=content, msgtype="template", status_bar=None,
                            directory=directory)

    def _accept(self, sender: Sender, *, users, depts, to_all, code, content, msgtype,
                status_bar, directory) -> int:
        if not (users or depts or to_all):
            raise NoticeError(code, "userid_list、dept_id_list、to_all_user不能同时为空")
        if to_all and sender.is_isv:
            raise NoticeError(41028)
        with self._lock:
            now = self.clock()
            if to_all and not self.quotas.to_all_allowed(now_ms=now, sender=sender):
                raise NoticeError(41045)
            found = resolve(directory or self.directory, sender.corp_id, users, depts, to_all)
            self._check_recipient_count(sender, found, to_all)
            outcome = self.quotas.admit(now_ms=now, sender=sender, userids=found.active,
                                        content=content)
            if to_all:
                self.quotas.record_to_all(now_ms=now, sender=sender)
            task = self._new_task(sender, now, found, outcome, msgtype, status_bar)
            self._count(sender, found, outcome)
            self._forget_old(now)
            return task.task_id

    def _check_recipient_count(self, sender: Sender, found: Recipients, to_all: bool) -> None:
        limit = (self.config.max_recipients_isv if sender.is_isv
                 else self.config.max_recipients_internal)
        # A full-company send is capped by 41045 per day, not by the per-call recipient limit.
        if not to_all and len(found.order) > limit:
            raise NoticeError(41029)

    def _new_task(self, sender, now, found, outcome, msgtype, status_bar) -> Task:
        cfg = self.config
        self._next_id += 1
        task = Task(
            task_id=self._next_id, corp_id=sender.corp_id, app_key=sender.app_key,
            agent_id=int(sender.agent_id), created_ms=now,
            start_ms=now + int(cfg.delivery_start_delay_s * 1000),
            rate_per_s=cfg.delivery_rate_per_s, msgtype=msgtype, order=found.order,
            outcome=outcome, failed=set(found.inactive), invalid_users=found.invalid_users,
            invalid_depts=found.invalid_depts, read_fraction=cfg.read_fraction,
            read_after_ms=int(cfg.read_after_s * 1000), status_bar=status_bar,
        )
        self.tasks[task.task_id] = task
        return task

    def _count(self, sender: Sender, found: Recipients, outcome: dict) -> None:
        batch: Counter = Counter()
        for verdict in outcome.values():
            batch["delivered" if verdict is None else str(verdict.code)] += 1
        batch["failed"] += len(found.inactive)
        batch["invalid"] += len(found.invalid_users)
        self.counts.update(batch)
        if self.on_count is not None:
            for key, n in batch.items():
                if n:
                    self.on_count(key if key in _PLAIN else f"forbidden:{key}", n, sender)

    def _forget_old(self, now: int) -> None:
        """Drop tasks past every use (7 days), sweeping at most once per emulated minute."""
        if now - self._swept_ms < 60_000:
            return
        self._swept_ms = now
        horizon = now - STATUS_BAR_DAYS * DAY_MS
        for task_id in [t for t, task in self.tasks.items() if task.created_ms < horizon]:
            del self.tasks[task_id]

    # -- reading back --------------------------------------------------------------------------

    def check_agent(self, sender: Sender, agent_id) -> None:
        try:
            number = int(agent_id)
        except (TypeError, ValueError):
            raise NoticeError(40035, "agent_id不合法") from None
        if number != int(sender.agent_id):
            raise NoticeError(self.wrong_agent_errcode)

    def _task(self, sender: Sender, agent_id, task_id, *, code: int, max_age_ms: int) -> Task:
        self.check_agent(sender, agent_id)
        try:
            number = int(task_id)
        except (TypeError, ValueError):
            raise NoticeError(code, "task_id不合法") from None
        task = self.tasks.get(number)
        if (task is None or task.corp_id != sender.corp_id or task.app_key != sender.app_key
                or self.clock() - task.created_ms > max_age_ms):
            raise NoticeError(code, "agentId不合法或taskId不合法")
        return task

    def progress(self, sender: Sender, *, agent_id, task_id) -> dict:
        with self._lock:
            task = self._task(sender, agent_id, task_id, code=40035, max_age_ms=DAY_MS)
            return task.progress(self.clock())

    def result(self, sender: Sender, *, agent_id, task_id) -> dict:
        with self._lock:
            task = self._task(sender, agent_id, task_id, code=40035, max_age_ms=DAY_MS)
            cfg = self.config
            if cfg.refuse_large_results and len(task.order) > cfg.result_max_recipients:
                raise NoticeError(41052)
            return task.send_result(self.clock())

    def recall(self, sender: Sender, *, agent_id, task_id) -> None:
        with self._lock:
            task = self._task(sender, agent_id, task_id, code=400002, max_age_ms=DAY_MS)
            task.recalled = True

    def update_status_bar(self, sender: Sender, *, agent_id, task_id, status_value,
                          status_bg=None) -> None:
        with self._lock:
            task = self._task(sender, agent_id, task_id, code=40035,
                              max_age_ms=STATUS_BAR_DAYS * DAY_MS)
            if task.msgtype != "oa":
                raise NoticeError(40035, "仅OA消息支持状态栏")
            if status_value in (None, ""):
                raise NoticeError(40035, "status_value不能为空")
            task.status_bar = {"status_value": str(status_value)}
            if status_bg:
                task.status_bar["status_bg"] = str(status_bg)

    # -- control API ---------------------------------------------------------------------------

    def mark_read(self, *, task_id=None, userids=None, corp_id=None) -> int:
        """Mark delivered messages read, by task and/or userids; returns how many changed."""
        with self._lock:
            if task_id is not None:
                tasks = [self.tasks[int(task_id)]] if int(task_id) in self.tasks else []
            else:
                tasks = [t for t in self.tasks.values() if corp_id in (None, t.corp_id)]
            wanted = set(userids) if userids is not None else None
            changed = 0
            for task in tasks:
                for userid in task.delivered():
                    if (wanted is None or userid in wanted) and userid not in task.marked_read:
                        task.marked_read.add(userid)
                        changed += 1
            return changed

    def task_summary(self, task_id) -> dict | None:
        with self._lock:
            task = self.tasks.get(int(task_id))
            return task.summary(self.clock()) if task else None

    def counters(self) -> dict:
        """{"delivered", "failed", "invalid", "forbidden": {code: n}} since the last reset."""
        with self._lock:
            return {
                **{key: self.counts.get(key, 0) for key in sorted(_PLAIN)},
                "forbidden": {k: v for k, v in sorted(self.counts.items()) if k not in _PLAIN},
            }

    def reset_counters(self) -> None:
        with self._lock:
            self.counts = Counter()


def _split(value, code: int, kind) -> list:
    """A comma-separated DingTalk list (or a JSON array) -> its items, as given."""
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise NoticeError(code)
    try:
        cleaned = [kind(str(item).strip()) for item in items if str(item).strip()]
    except ValueError:
        raise NoticeError(code) from None
    return cleaned


def _flag(value, code: int) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if str(value).lower() in ("true", "false", "1", "0"):
        return str(value).lower() in ("true", "1")
    raise NoticeError(code, "to_all_user不合法")


def _check_lengths(users: list, depts: list, max_users: int, max_depts: int, code: int) -> None:
    """List lengths count entries as sent, repeats included."""
    if len(users) > max_users:
        raise NoticeError(code, f"userid_list长度超过{max_users}")
    if len(depts) > max_depts:
        raise NoticeError(code, f"dept_id_list长度超过{max_depts}")


def _template_data(data, code: int) -> dict:
    if data in (None, ""):
        return {}
    try:
        value = json.loads(data) if isinstance(data, str) else data
    except ValueError:
        raise NoticeError(code, "data不是合法的JSON") from None
    if not isinstance(value, dict):
        raise NoticeError(code, "data必须是JSON对象")
    return value

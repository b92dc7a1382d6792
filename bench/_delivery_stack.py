"""What bench/delivery.py starts, stops and reads: the emulator, Celery workers and beat, the
world (suites, tenants, corps) and the two views of a delivery (the emulator's, dingsuite's).

The bench process itself runs Django on the bench's database and Redis (the same environment
as its workers) so that notifications are created through the public service
(messaging.services.notifications.notification_create) and read back through the models.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import _callbacks_stack as stack
import requests
from _callbacks_stack import PYTHON, ROOT
from _recovery_stack import spawn, stop_group, wait_http

sys.path.insert(0, str(ROOT))

from dingtalk.emulator import EmulatorControl  # noqa: E402

# Sends and their polls, as deploy/'s bulk worker; `default` too, for the sweep beat queues.
QUEUES = "sends,polls,default"
UNLIMITED = 1_000_000_000
PER_MINUTE_CODES = ("143103", "143104", "143203", "143204")
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# The emulator numbers its tasks from here (dingtalk/emulator/notices/engine.py TASK_ID_BASE);
# the scan below also starts from the smallest task id dingsuite recorded, whichever is lower.
_FIRST_TASK_ID = 256_271_667_527


def django_env(db_url: str, redis_url: str) -> dict[str, str]:
    """One environment for the bench process and every worker: production settings, the bench's
    database and Redis (broker, limiter, token store), one set of field-encryption keys."""
    env = stack.server_env(db_url, redis_url, 1, stack.free_port())
    env.update(PYTHONPATH=str(ROOT), LOG_LEVEL="INFO")
    return env


def django_setup(env: dict[str, str]) -> None:
    """Django in the bench process, on the workers' settings (its own log only warnings)."""
    os.environ.update(env, LOG_LEVEL="WARNING")
    import django

    django.setup()


def group_cpu_s(pgid: int) -> float:
    """user+sys CPU seconds of every live process in the group, plus what its leader reaped."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        # fields[0] is the state (stat field 3): pgrp is field 5, utime 14, stime 15,
        # cutime 16, cstime 17.
        if int(fields[2]) != pgid:
            continue
        total += int(fields[11]) + int(fields[12])
        if int(entry.name) == pgid:
            total += int(fields[13]) + int(fields[14])
    return total / _CLK_TCK


class Emulator:
    """python -m dingtalk.emulator on a free port with the given work-notice quotas."""

    def __init__(self, workdir: Path, label: str, *, quotas: dict, rate_limits: bool) -> None:
        port = stack.free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / f"emulator-{label}.log"
        cmd = [PYTHON, "-m", "dingtalk.emulator", "--port", str(port), "--log-level", "WARNING"]
        if not rate_limits:
            cmd.append("--no-rate-limits")
        for name, value in quotas.items():
            cmd += ["--quota", f"{name}={value}"]
        self.proc = spawn(cmd, dict(os.environ, PYTHONPATH=str(ROOT)), self.log)
        wait_http(f"{self.url}/_emulator/clock", self.proc, "the emulator", self.log)
        self.control = EmulatorControl(self.url)

    def cpu_s(self) -> float:
        return group_cpu_s(self.proc.pid)

    def stop(self) -> None:
        stop_group(self.proc)


class Workers:
    """One Celery worker (prefork, `concurrency` processes, -Q sends,polls,default) and beat."""

    def __init__(self, env: dict[str, str], workdir: Path, label: str, concurrency: int) -> None:
        self.log = workdir / f"worker-{label}.log"
        self.worker = spawn(
            [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", QUEUES,
             "-n", f"delivery-{label}@%h", "--pool=prefork", f"--concurrency={concurrency}",
             "--loglevel=INFO", "--without-gossip", "--without-mingle"], env, self.log)
        self.beat = spawn(
            [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
             "--schedule", str(workdir / f"celerybeat-{label}")], env,
            workdir / f"beat-{label}.log")
        deadline = time.monotonic() + 90
        while " ready." not in self.log.read_text(errors="replace"):
            if self.worker.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the worker did not start; see {self.log}")
            time.sleep(0.2)

    def cpu_s(self) -> float:
        return group_cpu_s(self.worker.pid)

    def alive(self) -> bool:
        return self.worker.poll() is None

    def stop(self) -> None:
        stop_group(self.beat, signal.SIGTERM, grace=10)
        stop_group(self.worker, signal.SIGTERM, grace=20)


def worker_env(env: dict[str, str], base_url: str, *, paced: bool,
               suite_per_minute: int | None = None) -> dict[str, str]:
    """The workers' settings: DingTalk at the emulator; the limiter's ceilings as configured
    (paced) or far above any quota (pacing off)."""
    out = dict(env, DINGTALK_BASE_URL=base_url)
    if paced:
        if suite_per_minute is not None:
            out["MESSAGING_LIMIT_SUITE_PER_MINUTE"] = str(suite_per_minute)
        return out
    for name in ("MESSAGING_LIMIT_APP_CORP_PER_MINUTE", "MESSAGING_LIMIT_SUITE_PER_MINUTE",
                 "MESSAGING_LIMIT_CORP_PER_MINUTE", "MESSAGING_LIMIT_APP_API_PER_SECOND",
                 "MESSAGING_LIMIT_EGRESS_CALLS"):
        out[name] = str(UNLIMITED)
    return out


# -- the world ---------------------------------------------------------------------------------

def corp_with_active_users(emu: EmulatorControl, n: int) -> tuple[dict, list[str]]:
    """A new corp and the first n of its active users (the generator makes ~5% inactive; they
    would use no quota and end failed, which is not what this bench measures)."""
    made = emu.create_corp(users=int(n * 1.1) + 20)
    users = emu.get_corp(made["corp_id"], users=True)["users"]
    active = [u["userid"] for u in users if u.get("active", True)]
    if len(active) < n:
        raise SystemExit(f"corp {made['corp_id']}: only {len(active)} active users of "
                         f"{len(users)}, wanted {n}")
    return made, active[:n]


def suite_with_tenants(emu: EmulatorControl, corps: list[dict]) -> tuple[object, list]:
    """A suite at the emulator (no callback URL: nothing is pushed) registered in dingsuite with
    its ticket, each corp authorized at the emulator and its tenant authorized in dingsuite."""
    from dingtalk.isv import AuthInfo
    from tenants.services.suites import suite_register
    from tenants.services.tenants import tenant_authorize
    from tenants.services.tickets import suite_ticket_record

    key = f"suite{secrets.token_hex(8)}"
    remote = emu.create_suite(suite_key=key, push_style="sync_http")
    suite = suite_register(
        suite_key=key, suite_secret=remote["suite_secret"], callback_token=remote["token"],
        encoding_aes_key=remote["aes_key"], suite_id=str(remote["suite_id"]),
        app_id=str(remote["app_id"]), name="delivery bench", push_style="sync_http")
    suite_ticket_record(suite=suite, ticket=remote["ticket"],
                        pushed_at_ms=int(remote["ticket_ms"]))
    tenants = []
    for corp in corps:
        auth = emu.authorize(key, corp["corp_id"])
        tenants.append(tenant_authorize(suite=suite, info=AuthInfo.from_body(auth["auth_info"])))
    return suite, tenants


def internal_app(emu: EmulatorControl, corp: dict):
    """An internal app of the corp at the emulator, registered as tenants' make_app does."""
    from tenants.services.apps import app_register

    remote = emu.create_app(corp["corp_id"])
    return app_register(corp_id=corp["corp_id"], appkey=remote["appkey"],
                        appsecret=remote["appsecret"], agent_id=int(remote["agent_id"]),
                        app_name=remote["name"])


def text(content: str) -> dict:
    return {"msgtype": "text", "text": {"content": content}}


# -- dingsuite's view ----------------------------------------------------------------------------

FINAL = ("completed", "partially_failed", "failed", "cancelled", "recalled")
_BATCH_FINAL = ("done", "failed", "cancelled")


@dataclass
class Snapshot:
    statuses: Counter
    outcomes: Counter
    batches: Counter
    unsent: int  # batches without a DingTalk task id yet (pending, sending, held)

    @property
    def final(self) -> bool:
        return sum(self.statuses.values()) > 0 and all(s in FINAL for s in self.statuses)

    @property
    def planned(self) -> bool:
        return not (self.statuses.get("accepted") or self.statuses.get("planning"))

    def line(self) -> str:
        outs = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        bats = ", ".join(f"{k} {v}" for k, v in sorted(self.batches.items()))
        return f"recipients: {outs or '-'} | batches: {bats or '-'}"


def snapshot(ids: list[int]) -> Snapshot:
    from django.db.models import Count

    from messaging.models import Notification, NotificationBatch, Recipient

    statuses = Counter(dict(Notification.objects.filter(pk__in=ids).values_list("status")
                            .annotate(n=Count("id"))))
    outcomes = Counter(dict(Recipient.objects.filter(notification_id__in=ids)
                            .values_list("outcome").annotate(n=Count("id"))))
    batches = Counter(dict(NotificationBatch.objects.filter(notification_id__in=ids)
                           .values_list("status").annotate(n=Count("id"))))
    unsent = NotificationBatch.objects.filter(
        notification_id__in=ids, task_id__isnull=True,
        status__in=("pending", "sending", "held")).count()
    return Snapshot(statuses, outcomes, batches, unsent)


def close_run(ids: list[int]) -> None:
    """After a run's figures are taken and its workers stopped: nothing of it is left for a
    later run's sweep (read refreshes, cancelled leftovers). The bench's own database only."""
    from messaging.models import Notification, NotificationBatch

    NotificationBatch.objects.filter(notification_id__in=ids).exclude(
        status__in=_BATCH_FINAL).update(status="done", next_attempt_at=None,
                                        lease_expires_at=None, last_error="bench run over")
    Notification.objects.filter(pk__in=ids).exclude(status__in=FINAL).update(
        status="cancelled", next_attempt_at=None, lease_expires_at=None)


# -- the emulator's view -------------------------------------------------------------------------

@dataclass
class EmulatorView:
    tasks: list[dict] = field(default_factory=list)  # task summaries in id order

    def delivered(self, task: dict) -> list[str]:
        result = task["send_result"]
        return [*result["read_user_id_list"], *result["unread_user_id_list"]]

    def forbidden(self) -> Counter:
        codes: Counter = Counter()
        for task in self.tasks:
            codes.update(str(f["code"]) for f in task["send_result"]["forbidden_list"])
        return codes

    def delivered_total(self) -> int:
        return sum(len(self.delivered(t)) for t in self.tasks)

    def delivered_distinct(self) -> int:
        return len({(t["corp_id"], u) for t in self.tasks for u in self.delivered(t)})

    def per_minute(self, t0_ms: int) -> tuple[list[int], int]:
        """(recipients accepted per minute since t0, minutes from t0 to the last accepted one):
        each task's delivered recipients at its acceptance time (quotas are decided then)."""
        bins: Counter = Counter()
        last = t0_ms
        for task in self.tasks:
            n = len(self.delivered(task))
            if n and task["created_ms"] >= t0_ms:
                bins[(task["created_ms"] - t0_ms) // 60_000] += n
                last = max(last, task["created_ms"])
        span = max(bins) + 1 if bins else 0
        return [bins[m] for m in range(span)], int((last - t0_ms) // 60_000)


def emulator_view(base_url: str, db_task_ids: list[int], app_keys: set[str] | None = None,
                  since_ms: int = 0) -> EmulatorView:
    """Every task the emulator holds (its ids are consecutive), those of `app_keys` accepted at
    or after since_ms kept. Read once everything is processed."""
    view = EmulatorView()
    with requests.Session() as session:
        tasks = _scan(session, base_url, _FIRST_TASK_ID)
        if not tasks and db_task_ids:  # the emulator numbers its tasks differently now
            tasks = _scan(session, base_url, min(db_task_ids))
    view.tasks = [t for t in tasks if (app_keys is None or t["app_key"] in app_keys)
                  and t["created_ms"] >= since_ms]
    return view


def _scan(session: requests.Session, base_url: str, first: int) -> list[dict]:
    tasks, task_id, misses = [], first, 0
    while misses < 3:  # ids are consecutive: three 404s in a row are the end
        answer = session.get(f"{base_url}/_emulator/notices/tasks/{task_id}", timeout=10)
        task_id += 1
        if answer.status_code == 404:
            misses += 1
            continue
        answer.raise_for_status()
        misses = 0
        tasks.append(answer.json())
    return tasks


def db_task_ids(ids: list[int]) -> list[int]:
    from messaging.models import NotificationBatch

    return list(NotificationBatch.objects.filter(notification_id__in=ids, task_id__isnull=False)
                .values_list("task_id", flat=True))

"""`make run`, `python -m devserver`: emulator, Celery worker and Django, plus a demo suite.

Everything runs as child processes of this one; Ctrl-C stops them all. Nothing here is used in
production (see deploy/).
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from dingtalk.emulator.control_client import EmulatorControl

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = "127.0.0.1"
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", "9000"))
WEB_PORT = int(os.environ.get("WEB_PORT", "8000"))
EMULATOR_URL = f"http://{HOST}:{EMULATOR_PORT}"
VAR_DIR = Path(os.environ.get("DINGSUITE_VAR_DIR", ROOT / "var"))
WEB_URL = f"http://{HOST}:{WEB_PORT}"
# Every role's queue (config/celery_routes.py's roles; the launcher sets no CELERY_QUEUE_PREFIX).
WORKER_QUEUES = ("callbacks", "sends", "polls", "sync", "default")

# The demo suite. These are throwaway values for the local emulator, not real credentials.
DEMO_SUITE = {
    "suite_key": "suitedemo0000000001",
    "suite_id": "10000001",
    "app_id": "20000001",
    "suite_secret": "demo-suite-secret-for-the-local-emulator",
    "token": "demotoken",
    "aes_key": "a" * 43,
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("DINGTALK_BASE_URL", EMULATOR_URL)
    return env


def _wait_http(url: str, what: str, deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)  # waiting for a child process to listen; not test synchronisation
    raise SystemExit(f"{what} did not start at {url}")


def _manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=_env(), check=True)


def _seed_demo() -> None:
    """Register the demo suite in the emulator and in dingsuite, push a ticket, authorize a corp."""
    control = EmulatorControl(EMULATOR_URL)
    suite_key = DEMO_SUITE["suite_key"]
    control.create_suite(
        suite_key=suite_key,
        suite_id=DEMO_SUITE["suite_id"],
        suite_secret=DEMO_SUITE["suite_secret"],
        token=DEMO_SUITE["token"],
        aes_key=DEMO_SUITE["aes_key"],
        callback_url=f"{WEB_URL}/callbacks/{suite_key}/",
        push_style="sync_http",
    )
    corp = control.create_corp(name="Demo Corp", users=50)
    env = _env() | {
        "DINGTALK_SUITE_SECRET": DEMO_SUITE["suite_secret"],
        "DINGTALK_CALLBACK_TOKEN": DEMO_SUITE["token"],
        "DINGTALK_ENCODING_AES_KEY": DEMO_SUITE["aes_key"],
    }
    subprocess.run(
        [PY, "manage.py", "register_suite", "--suite-key", suite_key, "--suite-id",
         DEMO_SUITE["suite_id"], "--app-id", DEMO_SUITE["app_id"], "--name", "Demo suite",
         "--push-style", "sync_http"],
        cwd=ROOT, env=env, check=True,
    )
    control.push_ticket(suite_key)
    control.authorize(suite_key, corp["corp_id"])
    print(f"demo: suite {suite_key} registered; corp {corp['corp_id']} authorized")


def _ensure_admin() -> None:
    password = os.environ.get("DINGSUITE_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    code = (
        "from django.contrib.auth import get_user_model; U = get_user_model(); "
        "u, _ = U.objects.get_or_create(username='admin', defaults={'is_staff': True, "
        "'is_superuser': True}); u.set_password(__import__('os').environ['ADMIN_PW']); u.save()"
    )
    subprocess.run(
        [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=_env() | {"ADMIN_PW": password},
        check=True,
    )
    print(f"admin: {WEB_URL}/admin/  user admin  password {password}  (local only)")


def main() -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _manage("migrate", "--noinput")
    children = [
        subprocess.Popen(
            [PY, "-m", "dingtalk.emulator", "--host", HOST, "--port", str(EMULATOR_PORT)],
            cwd=ROOT, env=_env(),
        ),
        subprocess.Popen(
            # -B: the embedded beat runs the callback-event sweep (production runs beat apart).
            # -Q: a worker without it consumes only the default queue, never a routed role's.
            # Two threads: the demo database is SQLite, which takes one writer at a time, so more
            # threads only wait on its lock (and past its timeout fail with "database is locked").
            [PY, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(WORKER_QUEUES),
             "--pool=threads", "--concurrency=2", "--loglevel=INFO",
             "-B", "--schedule", str(VAR_DIR / "celerybeat-schedule")],
            cwd=ROOT, env=_env(),
        ),
        subprocess.Popen(
            [PY, "manage.py", "runserver", "--noreload", f"{HOST}:{WEB_PORT}"],
            cwd=ROOT, env=_env(),
        ),
    ]

    def stop(*_args) -> None:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=10)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        _wait_http(f"{EMULATOR_URL}/_emulator/clock", "the emulator")
        _wait_http(f"{WEB_URL}/healthz", "dingsuite")
        _ensure_admin()
        _seed_demo()
        print(f"dingsuite is up: {WEB_URL}  (emulator {EMULATOR_URL}); Ctrl-C stops everything")
        while all(child.poll() is None for child in children):
            time.sleep(1)
        print("a child process exited; stopping", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    stop()


if __name__ == "__main__":
    main()

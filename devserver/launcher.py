"""`make run`, `python -m devserver`: emulator, Celery worker and Django, plus the demo world.

Everything runs as child processes of this one; Ctrl-C stops them all. The database (SQLite)
and the emulator's world are both kept under var/, so a second run finds the same suite, corps,
tenants, admin password and API keys. Nothing here is used in production (see deploy/).
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from devserver import demo
from dingtalk.emulator.control_client import EmulatorControl

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = "127.0.0.1"
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", "9000"))
WEB_PORT = int(os.environ.get("WEB_PORT", "8000"))
EMULATOR_URL = f"http://{HOST}:{EMULATOR_PORT}"
VAR_DIR = Path(os.environ.get("DINGSUITE_VAR_DIR", ROOT / "var"))
WEB_URL = f"http://{HOST}:{WEB_PORT}"
# Every role's queue of config/celery_routes.py (the launcher sets no CELERY_QUEUE_PREFIX; it
# may not import config, its layer sibling, so tests/test_quickstart.py checks the two agree).
WORKER_QUEUES = ("callbacks", "sends", "polls", "sync", "default")


class LaunchError(Exception):
    """Something the person running `make run` must fix; printed as one line, exit code 1."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("DINGTALK_BASE_URL", EMULATOR_URL)
    env["DINGSUITE_VAR_DIR"] = str(VAR_DIR)
    # Deprecation chatter from setuptools and kombu says nothing to someone trying the demo.
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning,ignore::UserWarning")
    return env


def _check_port_free(port: int, variable: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise LaunchError(f"port {port} on {HOST} is in use; stop what holds it or set "
                              f"{variable} to a free port") from None


def _wait_ready(url: str, child: subprocess.Popen, what: str, is_ours,
                deadline_s: float = 60.0) -> None:
    """Until `url` answers what only our own child answers (not merely any server)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise LaunchError(f"{what} exited with code {child.returncode} while starting")
        try:
            response = requests.get(url, timeout=1)
            if is_ours(response):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.2)  # waiting for a child process to listen; not test synchronisation
    raise LaunchError(f"{what} did not answer at {url} within {deadline_s:.0f} s")


def _manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=_env(), check=True,
                   stdout=subprocess.DEVNULL)


def _admin_password() -> str:
    """DINGSUITE_ADMIN_PASSWORD, else one made on the first run and kept in var/."""
    given = os.environ.get("DINGSUITE_ADMIN_PASSWORD")
    if given:
        return given
    path = VAR_DIR / "admin-password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.write_text(password)
    path.chmod(0o600)
    return password


def _ensure_admin(password: str) -> None:
    code = (
        "from django.contrib.auth import get_user_model; U = get_user_model(); "
        "u, _ = U.objects.get_or_create(username='admin', defaults={'is_staff': True, "
        "'is_superuser': True}); u.set_password(__import__('os').environ['ADMIN_PW']); u.save()"
    )
    subprocess.run([PY, "manage.py", "shell", "-v", "0", "-c", code], cwd=ROOT,
                   env=_env() | {"ADMIN_PW": password}, check=True)


def _start_children() -> list[tuple[str, subprocess.Popen]]:
    env = _env()
    # Each child in a session of its own: Ctrl-C reaches the launcher only, which then stops
    # each child once (a second SIGINT makes Celery shut down cold and cuts the emulator's save).
    Popen = functools.partial(subprocess.Popen, cwd=ROOT, env=env, start_new_session=True)
    return [
        ("the emulator", Popen(
            [PY, "-m", "dingtalk.emulator", "--host", HOST, "--port", str(EMULATOR_PORT),
             "--state-file", str(VAR_DIR / "emulator-state.json"), "--log-level", "WARNING"])),
        ("the Celery worker", Popen(
            # -B: the embedded beat runs the sweeps (production runs beat apart).
            # -Q: a worker without it consumes only the default queue, never a routed role's.
            # Two threads: SQLite takes one writer at a time (WAL, a busy timeout and
            # IMMEDIATE transactions in config/settings/base.py make the two wait, not fail).
            [PY, "-m", "celery", "--quiet", "-A", "config", "worker",
             "-Q", ",".join(WORKER_QUEUES), "--pool=threads", "--concurrency=2",
             "--loglevel=WARNING", "-B", "--schedule", str(VAR_DIR / "celerybeat-schedule")])),
        ("dingsuite's web server", Popen(
            [PY, "manage.py", "runserver", "--noreload", f"{HOST}:{WEB_PORT}"])),
    ]


def _summary(world: demo.DemoWorld, password: str) -> str:
    corp = world.corp_ids[0]
    userids = ", ".join(f'"{u}"' for u in world.sample_userids)
    return "\n".join([
        "",
        "dingsuite is up. Ctrl-C stops everything.",
        f"  admin        {WEB_URL}/admin/   user admin   password {password}",
        f"  API docs     {WEB_URL}/api/docs/   (docs/api.md)",
        f"  emulator     {EMULATOR_URL}   (docs/emulator.md)",
        f"  suite        {world.suite_key}: corps {', '.join(world.corp_ids)} authorized",
        f"  API key      {world.api_key}",
        f"  internal app appkey {world.app['appkey']}  appsecret {world.app['appsecret']}  "
        f"agent_id {world.app['agent_id']}  (corp {world.app['corp_id']})",
        "",
        f"Send a work notification to {len(world.sample_userids)} users of the first corp:",
        f"  curl -s -X POST {WEB_URL}/api/v1/tenants/{corp}/notifications/ \\",
        f"    -H 'Authorization: Bearer {world.api_key}' -H 'Content-Type: application/json' \\",
        f"    -d '{{\"userid_list\": [{userids}], "
        "\"msg\": {\"msgtype\": \"text\", \"text\": {\"content\": \"hello\"}}}'",
        "",
    ])


def _wait_authorized(world: demo.DemoWorld, worker: subprocess.Popen) -> None:
    """Until the API lists the demo corps as authorized tenants: the pushes went through the
    callback, the inbox and the worker (so the summary comes after that noise)."""
    def authorized(response) -> bool:
        tenants = response.json()["results"]
        return len([t for t in tenants if t["status"] == "authorized"]) >= len(world.corp_ids)

    url = f"{WEB_URL}/api/v1/tenants/?status=authorized"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise LaunchError("the Celery worker exited while the demo corps were authorizing")
        try:
            response = requests.get(url, headers={"Authorization": f"Bearer {world.api_key}"},
                                    timeout=2)
            if response.status_code == 200 and authorized(response):
                return
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(0.3)  # waiting for the worker to apply the pushes; not test synchronisation
    raise LaunchError("the demo corps were not authorized within 60 s (see the worker's log)")


def _run(children: list[tuple[str, subprocess.Popen]]) -> None:
    _, emulator_proc = children[0]
    _wait_ready(f"{EMULATOR_URL}/_emulator/clock", emulator_proc, "the emulator",
                lambda r: r.status_code == 200 and "now_ms" in r.json())
    _wait_ready(f"{WEB_URL}/healthz", children[2][1], "dingsuite's web server",
                lambda r: r.status_code == 200 and r.json() == {"status": "ok"})
    password = _admin_password()
    _ensure_admin(password)
    control = EmulatorControl(EMULATOR_URL)
    demo.build_emulator_side(control, WEB_URL)
    world = demo.build_dingsuite_side(PY, ROOT, _env(), control)
    demo.authorize_corps(control)
    demo.place_market_orders(control)
    control.save_state()  # a crash of this launcher keeps the world made so far
    _wait_authorized(world, children[1][1])
    print(_summary(world, password), flush=True)
    while all(child.poll() is None for _, child in children):
        time.sleep(1)
    dead = next(name for name, child in children if child.poll() is not None)
    raise LaunchError(f"{dead} exited; stopping")


def _stop(children: list[tuple[str, subprocess.Popen]]) -> None:
    for _, child in children:
        if child.poll() is None:
            # SIGINT: the emulator saves its world on the way out, the others stop cleanly.
            child.send_signal(signal.SIGINT)
    for _, child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> None:
    children: list[tuple[str, subprocess.Popen]] = []

    def on_sigterm(*_args) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        _check_port_free(WEB_PORT, "WEB_PORT")
        _check_port_free(EMULATOR_PORT, "EMULATOR_PORT")
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _manage("migrate", "--noinput")
        children = _start_children()
        _run(children)
    except KeyboardInterrupt:
        raise SystemExit(0) from None
    except (LaunchError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"make run: {exc}") from None
    finally:
        _stop(children)  # whatever went wrong, no child outlives the launcher

if __name__ == "__main__":
    main()

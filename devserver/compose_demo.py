"""`python -m devserver.compose_demo`: the compose stack's demo profile (deploy/compose.yml,
service demo-seed) builds `make run`'s demo world against the stack's emulator.

The same steps as the launcher (devserver/demo.py, devserver/seed.py), with what the launcher
starts itself already running as services: it waits for the emulator and dingsuite's web
service, creates the suite, corps and internal app at the emulator, registers them in dingsuite,
has the corps authorize the suite (the emulator pushes each authorization to the web service's
callback URL, a worker applies it), waits until the API lists them as authorized tenants, and
prints what to try. Every step is idempotent: a second run changes nothing and prints the same
API keys. It refuses to run against anything but an emulator.

Environment: DINGTALK_BASE_URL (the emulator, as dingsuite reaches it), DEMO_WEB_URL (dingsuite,
as the emulator reaches it; default http://web:8000), DEMO_PUBLIC_URL (dingsuite, as your
browser reaches it, for the summary), DINGSUITE_VAR_DIR (where the demo's API keys are kept),
DINGSUITE_ADMIN_PASSWORD (optional: an admin user with it), DEMO_WAIT_S (default 180).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from devserver import demo
from dingtalk.emulator.control_client import EmulatorControl, EmulatorControlError


class DemoError(Exception):
    """Printed as one line; exit code 1."""


def _wait(what: str, probe, deadline: float) -> None:
    while True:
        try:
            if probe():
                return
        except (requests.RequestException, ValueError, KeyError):
            pass
        if time.monotonic() > deadline:
            raise DemoError(f"{what} did not answer in time")
        time.sleep(0.5)  # waiting for another service to come up; not test synchronisation


def _ensure_admin(password: str) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True})
    user.set_password(password)
    user.save()


def _authorized_count(web_url: str, api_key: str) -> int:
    response = requests.get(f"{web_url}/api/v1/tenants/", params={"status": "authorized"},
                            headers={"Authorization": f"Bearer {api_key}"}, timeout=5)
    response.raise_for_status()
    return len([t for t in response.json()["results"] if t["status"] == "authorized"])


def run(environ: dict[str, str]) -> str:
    """Build the demo world; the summary to print."""
    emulator_url = environ.get("DINGTALK_BASE_URL", "").rstrip("/")
    if not emulator_url or (urlsplit(emulator_url).hostname or "").endswith("dingtalk.com"):
        raise DemoError("DINGTALK_BASE_URL must name the emulator (the demo profile's "
                        "http://emulator:9000), never DingTalk")
    web_url = environ.get("DEMO_WEB_URL", "http://web:8000").rstrip("/")
    public_url = environ.get("DEMO_PUBLIC_URL", web_url).rstrip("/")
    var_dir = Path(environ.get("DINGSUITE_VAR_DIR", "/var/lib/dingsuite"))
    var_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + float(environ.get("DEMO_WAIT_S", "180"))

    _wait(f"the emulator at {emulator_url}",
          lambda: "now_ms" in requests.get(f"{emulator_url}/_emulator/clock", timeout=3).json(),
          deadline)
    _wait(f"dingsuite at {web_url}",
          lambda: requests.get(f"{web_url}/healthz", timeout=3).status_code == 200, deadline)
    control = EmulatorControl(emulator_url)
    demo.build_emulator_side(control, web_url)
    world = demo.build_dingsuite_side(sys.executable, None,
                                      dict(environ, DINGSUITE_VAR_DIR=str(var_dir)), control)
    demo.authorize_corps(control)
    demo.place_market_orders(control)
    with contextlib.suppress(EmulatorControlError):  # refused without --state-file: not kept
        control.save_state()
    _wait("the demo corps' authorizations (see the worker-callbacks log)",
          lambda: _authorized_count(web_url, world.api_key) >= len(world.corp_ids), deadline)
    admin = "(set DINGSUITE_ADMIN_PASSWORD for an admin user)"
    if environ.get("DINGSUITE_ADMIN_PASSWORD"):
        _ensure_admin(environ["DINGSUITE_ADMIN_PASSWORD"])
        admin = "user admin, password DINGSUITE_ADMIN_PASSWORD"
    corp = world.corp_ids[0]
    return "\n".join([
        "",
        "dingsuite demo seeded.",
        f"  admin        {public_url}/admin/   {admin}",
        f"  API docs     {public_url}/api/docs/",
        f"  suite        {world.suite_key}: corps {', '.join(world.corp_ids)} authorized",
        f"  API key      {world.api_key}",
        f"  internal app appkey {world.app['appkey']}  agent_id {world.app['agent_id']}  "
        f"(corp {world.app['corp_id']})",
        "",
        "Send a work notification:",
        f"  curl -s -X POST {public_url}/api/v1/tenants/{corp}/notifications/ \\",
        f"    -H 'Authorization: Bearer {world.api_key}' -H 'Content-Type: application/json' \\",
        f"    -d '{{\"userid_list\": [\"{world.sample_userids[0]}\"], "
        "\"msg\": {\"msgtype\": \"text\", \"text\": {\"content\": \"hello\"}}}'",
        "",
    ])


def main() -> None:
    try:
        print(run(dict(os.environ)), flush=True)
    except DemoError as exc:
        raise SystemExit(f"demo-seed: {exc}") from None


if __name__ == "__main__":
    main()

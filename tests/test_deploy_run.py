"""The deployment's own commands, run: the systemd units' ExecStart lines (web, both workers,
beat) with the venv standing in for /opt/dingsuite and a temporary directory for
/var/lib/dingsuite, configured by deploy/env.example (hosts and secrets replaced), on a database
of their own; `dingsuite migrate` and `collectstatic` as the documented steps run them;
compose's web healthcheck against that web; the TLS settings' effect (no redirect, HSTS and
Secure cookies behind a proxy that says HTTPS); and the compose demo profile's seeding
(devserver/compose_demo.py) against a real emulator, through real callbacks and a real worker,
twice (the second run changes nothing)."""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
import yaml

from config import cli
from devserver import compose_demo

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
FERNET_KEY = "dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ="


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _poll(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (requests.RequestException, OSError, ValueError):
            value = None
        if value:
            return value
        time.sleep(0.2)  # polling child processes' outcome with a deadline
    raise AssertionError(f"timed out waiting for {what}")


def _unit_argv(name: str, var_dir: Path, prefix: str) -> list[str]:
    """A unit's ExecStart as this machine can run it: the venv for /opt/dingsuite, a temporary
    directory for /var/lib/dingsuite, this run's queue prefix and one process per worker."""
    line = next(v for k, _, v in (ln.partition("=") for ln in
                                  (DEPLOY / "systemd" / name).read_text().splitlines())
                if k == "ExecStart")
    argv = shlex.split(line.replace("%%", "%"))
    assert argv[0].startswith("/opt/dingsuite/bin/")
    argv[0] = str(BIN / Path(argv[0]).name)
    argv = [a.replace("/var/lib/dingsuite", str(var_dir)) for a in argv]
    if "-Q" in argv:
        at = argv.index("-Q") + 1
        argv[at] = ",".join(f"{prefix}{q}" for q in argv[at].split(","))
        at = argv.index("-n") + 1
        argv[at] = argv[at].replace("@", f"-{prefix.rstrip('-')}@")
        argv = [a if not a.startswith("--concurrency=") else "--concurrency=1" for a in argv]
    return argv


class Stack:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path, self.var_dir = tmp_path, tmp_path / "var"
        self.var_dir.mkdir()
        self.procs: list[subprocess.Popen] = []
        self.web_port, self.emulator_port = _free_port(), _free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.emulator_url = f"http://127.0.0.1:{self.emulator_port}"
        server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
        self.db_name = f"{server.path.lstrip('/') or 'dingsuite'}_deploy_{os.getpid()}"
        self.admin_url = server._replace(path="/postgres").geturl()
        redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        self.prefix = f"deploy{os.getpid()}-"
        # env.example as an operator fills it in, with this machine's hosts. No REDIS_URL: the
        # Redis-less configuration (tokens and limits in PostgreSQL), so nothing is shared.
        self.env_values = cli.read_env_file(DEPLOY / "env.example") | {
            "DJANGO_SECRET_KEY": "deploy-test-" + "k3y-" * 12,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": server._replace(path=f"/{self.db_name}").geturl(),
            "REDIS_URL": "",
            "CELERY_BROKER_URL": redis._replace(path="/14").geturl(),
            "CELERY_QUEUE_PREFIX": self.prefix,
            "FIELD_ENCRYPTION_KEYS": FERNET_KEY,
            "DINGTALK_BASE_URL": self.emulator_url,
            "DINGSUITE_VAR_DIR": str(self.var_dir),
            "GUNICORN_BIND": f"127.0.0.1:{self.web_port}",
            "GUNICORN_WORKERS": "1",
            "LOG_FORMAT": "plain",
        }
        self.env_file = tmp_path / "env"
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.env_values.items()))

    def env(self, **extra: str) -> dict[str, str]:
        """What systemd gives a unit: the unit's Environment= and the EnvironmentFile."""
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_", "DINGSUITE_",
                                     "MESSAGING_", "CACHE_"))}
        return base | self.env_values | {"PYTHONUNBUFFERED": "1"} | extra

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(argv, cwd=self.var_dir, env=self.env(), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()[-3000:]

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    stack.create_database()
    try:
        yield stack
    finally:
        stack.stop()


def _authorized(stack: Stack, api_key: str) -> list[str]:
    response = requests.get(f"{stack.web_url}/api/v1/tenants/", params={"status": "authorized"},
                            headers={"Authorization": f"Bearer {api_key}"}, timeout=5)
    assert response.status_code == 200, response.text[:300]
    return sorted(t["corp_id"] for t in response.json()["results"])


def _seed(stack: Stack) -> subprocess.CompletedProcess:
    env = stack.env(DEMO_WEB_URL=stack.web_url, DEMO_PUBLIC_URL=stack.web_url,
                    DINGSUITE_ADMIN_PASSWORD="deploy-test-admin", DEMO_WAIT_S="90")
    return subprocess.run([sys.executable, "-m", "devserver.compose_demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.integration
def test_deploy_units_run_and_the_compose_demo_seeds_a_suite(stack):
    # Step 4 of docs/deploy.md: schema and static files through the installed `dingsuite`, which
    # reads the env file itself (no DJANGO_SETTINGS_MODULE or secrets in its environment).
    migrate_env = {k: v for k, v in stack.env().items() if k not in stack.env_values}
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run([str(BIN / "dingsuite"), *step, "-v", "0"],
                              cwd=stack.var_dir, timeout=300, capture_output=True, text=True,
                              env=migrate_env | {"DINGSUITE_ENV_FILE": str(stack.env_file)})
        assert done.returncode == 0, done.stderr[-2000:]
    assert (stack.var_dir / "static" / "staticfiles.json").exists()  # STATIC_ROOT's default

    # compose's emulator service, as written (its state file on the demo volume).
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    argv = compose["services"]["emulator"]["command"]
    assert argv[0] == "python"
    argv = [sys.executable, *[a.replace("/var/lib/dingsuite", str(stack.var_dir))
                              for a in argv[1:]]]
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(stack.emulator_port)
    emulator = stack.start("emulator", argv)
    units = {name: stack.start(name, _unit_argv(f"dingsuite-{name}.service", stack.var_dir,
                                                stack.prefix))
             for name in ("web", "worker-callbacks", "worker-bulk", "beat")}
    _poll(lambda: requests.get(f"{stack.emulator_url}/_emulator/clock", timeout=2).ok,
          timeout=60, what="the emulator")
    assert emulator.poll() is None

    # compose's web healthcheck, as written, against the web unit's gunicorn.
    probe = compose["services"]["web"]["healthcheck"]["test"]
    assert probe[:2] == ["CMD", "python"]
    probe = [sys.executable, *[a.replace("127.0.0.1:8000", f"127.0.0.1:{stack.web_port}")
                               for a in probe[2:]]]

    def healthy() -> bool:
        assert units["web"].poll() is None, stack.log("web")
        return subprocess.run(probe, env=stack.env(), capture_output=True).returncode == 0

    _poll(healthy, timeout=90, what="the web unit's gunicorn to pass compose's healthcheck")
    # Beat's schedule lands where the unit says (the docs' /var/lib/dingsuite).
    _poll(lambda: any(stack.var_dir.glob("celerybeat-schedule*")), timeout=60,
          what="beat's schedule file")

    # TLS ends in front: no redirect of plain HTTP (DingTalk's gateway forbids one), HSTS and
    # Secure cookies when the proxy says the request was HTTPS.
    login = f"{stack.web_url}/admin/login/"
    plain = requests.get(login, allow_redirects=False, timeout=10)
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers
    behind_tls = requests.get(login, headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert behind_tls.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "secure" in behind_tls.headers["Set-Cookie"].lower()

    first = _seed(stack)
    assert first.returncode == 0, (first.stderr[-2000:], stack.log("worker-callbacks"))
    api_key = re.search(r"API key\s+(dsk_\S+)", first.stdout).group(1)
    corps = ["dingdemo0000000000000000000000001", "dingdemo0000000000000000000000002",
             "dingdemo0000000000000000000000003"]
    assert _authorized(stack, api_key) == corps
    assert f"/api/v1/tenants/{corps[0]}/notifications/" in first.stdout
    assert (stack.var_dir / "emulator-state.json").exists()  # the emulator's world is kept

    second = _seed(stack)  # idempotent: the same world, the same key
    assert second.returncode == 0, second.stderr[-2000:]
    assert re.search(r"API key\s+(dsk_\S+)", second.stdout).group(1) == api_key
    assert _authorized(stack, api_key) == corps
    admin = subprocess.run(
        [str(BIN / "dingsuite"), "shell", "-c",
         "from django.contrib.auth import get_user_model as g; u = g().objects.get("
         "username='admin'); print(u.is_superuser, u.check_password('deploy-test-admin'))"],
        env=migrate_env | {"DINGSUITE_ENV_FILE": str(stack.env_file)}, cwd=stack.var_dir,
        capture_output=True, text=True, timeout=120)
    assert admin.stdout.split()[-2:] == ["True", "True"], admin.stderr[-1500:]
    for name, proc in units.items():
        assert proc.poll() is None, f"{name} exited: {stack.log(name)}"


@pytest.mark.parametrize("url", ["https://oapi.dingtalk.com", "", "https://api.dingtalk.com/"])
def test_deploy_compose_demo_refuses_anything_but_an_emulator(url, tmp_path):
    with pytest.raises(compose_demo.DemoError, match="must name the emulator"):
        compose_demo.run({"DINGTALK_BASE_URL": url, "DINGSUITE_VAR_DIR": str(tmp_path)})


_INSTALLED = """
import sys, django
import config
assert config.__file__.startswith(sys.argv[1]), config.__file__
django.setup()
import config.gunicorn_conf
from django.template.loader import get_template
from django.test import Client
get_template("admin/dingsuite_index.html")
get_template("admin/messaging/limiter_usage.html")
print(Client().get("/healthz").status_code)
"""


def test_deploy_wheel_carries_every_package_file_and_runs_without_the_source_tree(tmp_path):
    """What `pip install --no-deps .` installs (the image, the systemd steps) has every file of
    the packages, templates included, and works from outside the checkout."""
    # From a copy without the checkout's build leftovers (an egg-info's SOURCES.txt from an
    # earlier build would add files the configuration itself leaves out).
    top = ("config", "core", "devserver", "dingtalk", "tenants", "messaging", "api", "directory")
    source, wheels = tmp_path / "source", tmp_path / "wheels"
    for name in top:
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(source)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("dingsuite-*.whl"))
    packed = set(zipfile.ZipFile(wheel).namelist())
    missing = [str(path.relative_to(ROOT)) for name in top for path in (ROOT / name).rglob("*")
               if path.is_file() and "__pycache__" not in path.parts
               and str(path.relative_to(ROOT)) not in packed]
    assert not missing, f"left out of the wheel: {missing}"
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(site), str(wheel)], check=True, capture_output=True,
                   timeout=300)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_", "DINGSUITE_"))}
    env.update(cli.read_env_file(DEPLOY / "env.example"))
    env.update(DJANGO_ALLOWED_HOSTS="testserver", FIELD_ENCRYPTION_KEYS=FERNET_KEY,
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", REDIS_URL="",
               CELERY_BROKER_URL="memory://", DINGSUITE_VAR_DIR=str(tmp_path),
               PYTHONPATH=str(site))
    done = subprocess.run([sys.executable, "-c", _INSTALLED, str(site)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "200"

"""The deployment as written (deploy/, docs/deploy.md) against the code. These machines have no
container engine and no systemd, so compose.yml and the units are parsed and cross-checked
against env.example, demo.env, the settings, config/celery_routes.py and the documented install
steps; the settings and the `dingsuite` command run for real in subprocesses. The systemd
units' own commands and the compose demo's seeding run end to end in
tests/test_deploy_run.py."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.requirements import Requirement

from config import cli
from config.celery_routes import QUEUE_ROLES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
ONE_SHOTS = {"migrate", "demo-seed"}
OUR_IMAGE_SCRIPTS = {"dingsuite", "gunicorn", "celery", "python"}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def env_file(name: str) -> dict[str, str]:
    return cli.read_env_file(DEPLOY / name)


def command(service: dict) -> list[str]:
    value = service.get("command", [])
    return shlex.split(value) if isinstance(value, str) else list(value)


def option(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


def unit(path: Path) -> dict[str, list[str]]:
    """A unit's [Service] (and other) keys, every value of a repeated key kept."""
    keys: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            name, _, value = line.partition("=")
            keys.setdefault(name.strip(), []).append(value.strip())
    return keys


def exec_start(path: Path) -> list[str]:
    return shlex.split(unit(path)["ExecStart"][0].replace("%%", "%"))


def documented_steps() -> list[list[str]]:
    """The commands of docs/deploy.md's "Install with systemd" block, one argv each."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split("## Install with systemd", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines()
            if shlex.split(line, comments=True)]


# ---- env.example, demo.env and the compose service names ----------------------------------

@pytest.mark.parametrize("name", ["env.example", "demo.env"])
def test_deploy_env_hosts_are_compose_services(name):
    env, names = env_file(name), set(services())
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DINGTALK_BASE_URL"):
        host = urlsplit(env[key]).hostname
        if host != "oapi.dingtalk.com":
            assert host in names, f"{name}: {key} names {host}, not a compose service"
    # The PgBouncer URL env.example suggests names the service and the port it listens on.
    suggested = re.search(r"@(\w+):(\d+)/", (DEPLOY / "env.example").read_text().split(
        "DATABASE_PGBOUNCER=")[0].rsplit("DATABASE_CONN_MAX_AGE", 1)[1])
    assert suggested.group(1) == "pgbouncer"
    assert suggested.group(2) == services()["pgbouncer"]["environment"]["LISTEN_PORT"]


@pytest.mark.parametrize("name", ["env.example", "demo.env"])
def test_deploy_database_url_matches_the_db_service(name):
    env, db = env_file(name), services()["db"]["environment"]
    url = urlsplit(env["DATABASE_URL"])
    assert env["POSTGRES_PASSWORD"], f"{name}: POSTGRES_PASSWORD is empty"
    assert url.password == env["POSTGRES_PASSWORD"], f"{name}: the two passwords differ"
    assert url.username == db["POSTGRES_USER"] and url.path == f"/{db['POSTGRES_DB']}"
    assert "POSTGRES_PASSWORD" in db["POSTGRES_PASSWORD"]
    assert "POSTGRES_PASSWORD" in services()["pgbouncer"]["environment"]["DB_PASSWORD"]


def test_deploy_env_example_names_every_setting_production_requires():
    production = (ROOT / "config" / "settings" / "production.py").read_text()
    required = set(re.findall(r'_required\("([A-Z_0-9]+)"\)', production)) | {"CELERY_BROKER_URL"}
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEYS"} <= required
    env = env_file("env.example")
    assert required <= set(env), f"missing from env.example: {required - set(env)}"
    # Only what must be generated per deployment is left empty (the settings then refuse).
    empty = {k for k, v in env.items() if not v}
    assert "FIELD_ENCRYPTION_KEYS" in empty
    assert not empty & (required - {"FIELD_ENCRYPTION_KEYS"})


# ---- the production settings, for real ------------------------------------------------------

_SETTINGS = """
import json, django
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({"conn_max_age": db["CONN_MAX_AGE"],
                  "no_cursors": db.get("DISABLE_SERVER_SIDE_CURSORS", False),
                  "options": {k: v for k, v in db.get("OPTIONS", {}).items()},
                  "redirect": settings.SECURE_SSL_REDIRECT, "hsts": settings.SECURE_HSTS_SECONDS,
                  "proxy": settings.SECURE_PROXY_SSL_HEADER,
                  "cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
                  "trusted": settings.CSRF_TRUSTED_ORIGINS, "debug": settings.DEBUG}))
"""


def load_settings(**overrides: str | None) -> subprocess.CompletedProcess:
    """Production settings with env.example's values (the key generated), plus overrides."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_"))}
    env.update(env_file("env.example"))
    env.update(FIELD_ENCRYPTION_KEYS="dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ=",
               DINGSUITE_ENV_FILE="", PYTHONPATH=str(ROOT))
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", _SETTINGS], cwd=ROOT, env=env, timeout=60,
                          capture_output=True, text=True)


def loaded(**overrides: str | None) -> dict:
    import json

    done = load_settings(**overrides)
    assert done.returncode == 0, done.stderr[-1500:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_deploy_env_example_loads_and_tls_settings_are_consistent():
    values = loaded()
    assert values["debug"] is False
    assert values["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["cookies"] == [True, True]
    # No redirect by default (DingTalk's secure-domain gateway forbids one); HSTS on HTTPS.
    assert values["redirect"] is False and values["hsts"] >= 3600
    assert values["conn_max_age"] == 60 and values["no_cursors"] is False
    assert loaded(DJANGO_SECURE_SSL_REDIRECT="true")["redirect"] is True
    assert loaded(DJANGO_CSRF_TRUSTED_ORIGINS="https://a.example.com")["trusted"] == [
        "https://a.example.com"]


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEYS"])
def test_deploy_production_refuses_to_start_without_a_required_variable(name):
    done = load_settings(**{name: None})
    assert done.returncode != 0 and f"{name} must be set" in done.stderr


def test_deploy_pgbouncer_and_pool_settings():
    bouncer = loaded(DATABASE_PGBOUNCER="transaction")
    assert bouncer["conn_max_age"] == 0 and bouncer["no_cursors"] is True
    assert bouncer["options"]["prepare_threshold"] is None
    session = loaded(DATABASE_PGBOUNCER="session")
    assert session["conn_max_age"] == 0 and session["no_cursors"] is False
    pool = loaded(DATABASE_POOL_MAX_SIZE="3")
    assert pool["conn_max_age"] == 0
    assert pool["options"]["pool"]["max_size"] == 3 and pool["options"]["pool"]["min_size"] == 0
    # Transaction pooling breaks the PostgreSQL session lock, the token store's Redis-less lock.
    refused = load_settings(DATABASE_PGBOUNCER="transaction", REDIS_URL=None)
    assert refused.returncode != 0 and "needs REDIS_URL" in refused.stderr
    assert "must be empty, session or transaction" in load_settings(
        DATABASE_PGBOUNCER="statement").stderr


@pytest.mark.integration
def test_deploy_pool_gives_connections_from_a_psycopg_pool():
    code = ("from django.db import connection\nconnection.ensure_connection()\n"
            "print(type(connection.pool).__name__, connection.pool.max_size)\n"
            "with connection.cursor() as c:\n    c.execute('select 1')\n    print(c.fetchone()[0])")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(env_file("env.example"))
    # The server's maintenance database: only `select 1` runs.
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    env.update(DATABASE_URL=server._replace(path="/postgres").geturl(), DATABASE_POOL_MAX_SIZE="2",
               REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
               FIELD_ENCRYPTION_KEYS="dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ=",
               DINGSUITE_ENV_FILE="", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code],
                          cwd=ROOT, env=env, timeout=60, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.split() == ["ConnectionPool", "2", "1"]


# ---- compose.yml -------------------------------------------------------------------------

def test_deploy_compose_database_users_wait_for_a_healthy_database():
    svcs = services()
    migrate = svcs["migrate"]
    assert migrate["depends_on"]["db"] == {"condition": "service_healthy"}
    assert migrate["depends_on"]["pgbouncer"]["condition"] == "service_healthy"
    assert command(migrate)[:2] == ["dingsuite", "migrate"]
    ours = [name for name, svc in svcs.items() if "build" in svc]
    assert {"web", "worker-callbacks", "worker-bulk", "beat", "migrate"} <= set(ours)
    for name in ours:
        if name in ("migrate", "emulator", "demo-seed"):
            continue  # migrate waits for db; the emulator has no database
        depends = svcs[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        # PgBouncer waits for db itself; optional, since its profile may be off.
        assert depends["pgbouncer"] == {"condition": "service_healthy", "required": False}
    assert svcs["pgbouncer"]["depends_on"]["db"] == {"condition": "service_healthy"}
    for name, svc in svcs.items():
        for target, rule in svc.get("depends_on", {}).items():
            assert target in svcs, f"{name} depends on unknown {target}"
            if rule.get("condition") == "service_healthy":
                assert "healthcheck" in svcs[target], f"{target} has no healthcheck"
            if svcs[target].get("profiles") and not svc.get("profiles"):
                assert rule.get("required") is False, f"{name} needs {target}'s profile"


def test_deploy_compose_restart_policies():
    for name, svc in services().items():
        expected = {"no"} if name in ONE_SHOTS else {"unless-stopped", "always"}
        assert svc.get("restart") in expected, f"{name}: restart {svc.get('restart')!r}"


def test_deploy_compose_has_one_beat_and_workers_consume_every_queue():
    svcs = services()
    beats = [n for n, s in svcs.items() if "beat" in command(s)[:4]]
    assert beats == ["beat"] and svcs["beat"]["deploy"] == {"replicas": 1}
    assert option(command(svcs["beat"]), "--schedule").startswith("/var/lib/dingsuite/")
    assert "/var/lib/dingsuite" in svcs["beat"]["volumes"][0]
    consumed: set[str] = set()
    for name, svc in svcs.items():
        argv = command(svc)
        if "worker" in argv[:4]:
            assert "-B" not in argv and "--beat" not in argv, f"{name} runs a second beat"
            consumed |= set(option(argv, "-Q").split(","))
            assert svc["stop_grace_period"] == "60s" and "healthcheck" in svc
    assert consumed == set(QUEUE_ROLES)


def test_deploy_compose_commands_use_installed_entry_points():
    scripts = {ep.name for ep in metadata.entry_points(group="console_scripts")}
    assert {"dingsuite", "gunicorn", "celery"} <= scripts
    for name, svc in services().items():
        if "build" not in svc:
            continue
        argv = command(svc)
        assert argv[0] in OUR_IMAGE_SCRIPTS, f"{name}: {argv[0]}"
        if (option(argv, "-c") or "").startswith("python:"):
            assert find_spec(option(argv, "-c").removeprefix("python:")), name
        if option(argv, "-m"):
            assert find_spec(option(argv, "-m")), name
        if option(argv, "-A"):
            assert find_spec(option(argv, "-A")), name
        assert svc["env_file"] == "${DINGSUITE_ENV_FILE:-.env}"
    web = command(services()["web"])
    assert web == ["gunicorn", "-c", "python:config.gunicorn_conf", "config.wsgi"]
    bind_port = env_file("env.example")["GUNICORN_BIND"].rsplit(":", 1)[1]
    assert services()["web"]["ports"][0].endswith(f":{bind_port}")
    assert f":{bind_port}/healthz" in " ".join(services()["web"]["healthcheck"]["test"])


def test_deploy_compose_demo_profile_seeds_against_the_emulator():
    svcs, demo = services(), env_file("demo.env")
    assert svcs["emulator"]["profiles"] == ["demo"] and svcs["demo-seed"]["profiles"] == ["demo"]
    assert command(svcs["demo-seed"]) == ["python", "-m", "devserver.compose_demo"]
    assert svcs["demo-seed"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert svcs["demo-seed"]["depends_on"]["emulator"] == {"condition": "service_healthy"}
    # demo.env turns the profile on and is every service's env file.
    assert "demo" in demo["COMPOSE_PROFILES"].split(",")
    assert (DEPLOY / demo["DINGSUITE_ENV_FILE"]).resolve() == (DEPLOY / "demo.env").resolve()
    emulator_port = option(command(svcs["emulator"]), "--port")
    assert urlsplit(demo["DINGTALK_BASE_URL"]).port == int(emulator_port)
    # The emulator pushes callbacks to DEMO_WEB_URL: its host must be an allowed host.
    web_url = urlsplit(svcs["demo-seed"]["environment"]["DEMO_WEB_URL"])
    assert web_url.hostname == "web" and web_url.hostname in demo["DJANGO_ALLOWED_HOSTS"]
    # The emulator keeps its world, and demo-seed its keys, on the same volume.
    assert svcs["emulator"]["volumes"] == svcs["demo-seed"]["volumes"]
    state = option(command(svcs["emulator"]), "--state-file")
    assert state.startswith(svcs["emulator"]["volumes"][0].split(":")[1])


def test_deploy_compose_tls_and_pgbouncer_profiles():
    svcs = services()
    caddy = svcs["caddy"]
    assert caddy["profiles"] == ["tls"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    target = re.search(r"reverse_proxy (\S+):(\d+)", caddyfile)
    assert target.group(1) in svcs and target.group(1) == "web"
    assert target.group(2) == env_file("env.example")["GUNICORN_BIND"].rsplit(":", 1)[1]
    assert "{$DINGSUITE_DOMAIN}" in caddyfile and "DINGSUITE_DOMAIN" in env_file("env.example")
    bouncer = svcs["pgbouncer"]
    assert bouncer["profiles"] == ["pgbouncer"]
    assert bouncer["environment"]["POOL_MODE"].endswith("transaction}")
    assert bouncer["environment"]["DB_HOST"] == "db"


def test_deploy_image_installs_the_lock_and_uses_the_entry_points():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    lock_install = dockerfile.index("pip install --no-cache-dir -r requirements.lock")
    assert lock_install < dockerfile.index("pip install --no-cache-dir --no-deps .")
    assert "dingsuite collectstatic --noinput" in dockerfile
    assert "ENV DJANGO_SETTINGS_MODULE=config.settings.production" in dockerfile
    assert 'CMD ["gunicorn", "-c", "python:config.gunicorn_conf", "config.wsgi"]' in dockerfile
    assert "install -d -o dingsuite -g dingsuite" in dockerfile  # the volume's owner
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert not any(name.startswith("requirements") for name in ignored)


# ---- systemd units against the documented steps -----------------------------------------

def test_deploy_units_use_what_the_documented_steps_create():
    steps = documented_steps()
    venvs = [argv[-1] for argv in steps if argv[1:3] == ["-m", "venv"]]
    assert venvs == ["/opt/dingsuite"]
    pip = [argv for argv in steps if argv[0] == "/opt/dingsuite/bin/pip"]
    assert pip[0][1:] == ["install", "-r", "requirements.lock"]
    assert pip[1][1:] == ["install", "--no-deps", "."]
    installed = {argv[-1]: argv[-2] for argv in steps if argv[0] == "install" and "-d" not in argv}
    sysusers = DEPLOY / "systemd" / "dingsuite.sysusers"
    tmpfiles = DEPLOY / "systemd" / "dingsuite.tmpfiles"
    assert installed["/etc/sysusers.d/dingsuite.conf"] == "deploy/systemd/dingsuite.sysusers"
    assert installed["/etc/tmpfiles.d/dingsuite.conf"] == "deploy/systemd/dingsuite.tmpfiles"
    assert ["systemd-sysusers", "dingsuite.conf"] in steps
    assert ["systemd-tmpfiles", "--create", "dingsuite.conf"] in steps
    users = {line.split()[1] for line in sysusers.read_text().splitlines()
             if line.startswith("u ")}
    dirs = {line.split()[1]: line.split()[3:5] for line in tmpfiles.read_text().splitlines()
            if line.startswith("d ")}
    assert installed["/etc/dingsuite/env"] == "deploy/env.example"
    assert "/etc/dingsuite" in dirs
    # Every unit the docs install and enable, and nothing else.
    copied = next(argv for argv in steps if argv[-1] == "/etc/systemd/system/")
    assert sorted(Path(p).name for p in copied[3:-1]) == [u.name for u in UNITS]
    enabled = {name for argv in steps if argv[:3] == ["systemctl", "enable", "--now"]
               for name in argv[3:]}
    assert enabled == {u.stem for u in UNITS}
    scripts = {ep.name for ep in metadata.entry_points(group="console_scripts")}
    for path in UNITS:
        keys = unit(path)
        assert keys["User"] == ["dingsuite"] and "dingsuite" in users
        assert keys["EnvironmentFile"] == ["/etc/dingsuite/env"]
        # Not left to a default: importing config (its Celery app) defaults to the local
        # settings before config.wsgi's own default to production could apply.
        assert "DJANGO_SETTINGS_MODULE=config.settings.production" in keys["Environment"]
        assert keys["WorkingDirectory"] == ["/var/lib/dingsuite"]
        assert dirs["/var/lib/dingsuite"] == ["dingsuite", "dingsuite"]
        assert keys["StateDirectory"] == ["dingsuite"] and keys["Restart"] == ["always"]
        argv = exec_start(path)
        binary = Path(argv[0])
        assert binary.parent == Path("/opt/dingsuite/bin") and binary.name in scripts, path.name
        for arg in argv[1:]:
            if arg.startswith("/"):
                assert any(arg.startswith(d + "/") for d in dirs), f"{path.name}: {arg}"
            if arg.startswith("python:"):
                assert find_spec(arg.removeprefix("python:")), path.name
        if option(argv, "-A"):
            assert find_spec(option(argv, "-A"))
    # Management commands run as the user, through the installed entry point.
    managed = [argv for argv in steps if "/opt/dingsuite/bin/dingsuite" in argv]
    assert {argv[argv.index("/opt/dingsuite/bin/dingsuite") + 1] for argv in managed} == {
        "migrate", "collectstatic", "createsuperuser"}
    assert all(argv[:3] == ["sudo", "-u", "dingsuite"] for argv in managed)


@pytest.mark.skipif(not shutil.which("systemd-sysusers") or not shutil.which("systemd-tmpfiles"),
                    reason="needs systemd-sysusers and systemd-tmpfiles")
def test_deploy_documented_first_step_creates_the_user_and_directories(tmp_path):
    """Step 1 as written, in a scratch root (systemd's --root): the user, /etc/dingsuite and
    /var/lib/dingsuite, with the owners and modes the units and the env file need."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    ran = 0
    for argv in documented_steps():
        if argv[0] == "install" and argv[-1].startswith(("/etc/sysusers.d/", "/etc/tmpfiles.d/")):
            target = root / argv[-1].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / argv[-2], target)
        elif argv[0] in ("systemd-sysusers", "systemd-tmpfiles"):
            done = subprocess.run([argv[0], f"--root={root}", *argv[1:]], capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            ran += 1
    assert ran == 2
    users = {line.split(":")[0]: line.split(":") for line in
             (root / "etc" / "passwd").read_text().splitlines()}
    uid, gid, home = int(users["dingsuite"][2]), int(users["dingsuite"][3]), users["dingsuite"][5]
    assert home == "/var/lib/dingsuite"
    state, config = (root / "var/lib/dingsuite").stat(), (root / "etc/dingsuite").stat()
    assert (state.st_uid, state.st_gid, oct(state.st_mode & 0o777)) == (uid, gid, "0o750")
    assert (config.st_uid, config.st_gid, oct(config.st_mode & 0o777)) == (0, gid, "0o750")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
def test_deploy_units_pass_systemd_analyze_verify(tmp_path):
    """No unknown key, bad value or syntax error (the binaries: this venv's, as installed)."""
    for path in UNITS:
        text = path.read_text().replace("/opt/dingsuite/bin/", f"{Path(sys.executable).parent}/")
        (tmp_path / path.name).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", *sorted(map(str, tmp_path.iterdir()))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stderr


def test_deploy_units_one_beat_and_every_queue_consumed():
    consumed: set[str] = set()
    beats = []
    for path in UNITS:
        argv = exec_start(path)
        if "beat" in argv:
            beats.append(path.name)
            assert option(argv, "--schedule").startswith("/var/lib/dingsuite/")
        if "worker" in argv:
            assert "-B" not in argv
            consumed |= set(option(argv, "-Q").split(","))
            assert option(argv, "-n").endswith("@%h")  # celery's host name, not systemd's
            assert unit(path)["TimeoutStopSec"] == ["60"]
    assert beats == ["dingsuite-beat.service"]
    assert consumed == set(QUEUE_ROLES)


# ---- the lock files ---------------------------------------------------------------------

def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        if line and not line.startswith((" ", "#", "-")):
            package, _, version = line.partition("==")
            found[package.strip().lower()] = version.strip()
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_deploy_lock_files_pin_every_dependency_within_its_range():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert runtime.items() <= dev.items(), "the two lock files disagree"
    for lock, requirements in ((runtime, project["dependencies"]),
                               (dev, project["dependencies"]
                                + project["optional-dependencies"]["dev"])):
        for text in requirements:
            requirement = Requirement(text)
            name = canonical(requirement.name)
            assert name in lock, f"{name} is not locked"
            assert requirement.specifier.contains(lock[name]), f"{name}=={lock[name]}"
            for extra in requirement.extras:  # celery[redis] -> redis, psycopg[pool] -> ...
                assert any(k.startswith((extra, f"{name}-")) for k in lock), f"{name}[{extra}]"
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text()
        assert "file://" not in text and "--extra-index-url" not in text and "/opt/" not in text
        assert all("==" in line for line in text.splitlines()
                   if line and not line.startswith((" ", "#")))


def test_deploy_installed_environment_matches_the_lock():
    stale = {name: (version, metadata.version(name)) for name, version in
             pins("requirements-dev.lock").items() if metadata.version(name) != version}
    assert not stale, f"run `make venv`: installed versions differ from the lock: {stale}"


def test_deploy_make_and_ci_install_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    venv_rule = makefile.split("$(VENV)/.installed:", 1)[1].split("\n\n", 1)[0]
    assert "requirements-dev.lock" in venv_rule.splitlines()[0]
    assert "pip install --quiet -r requirements-dev.lock" in venv_rule
    assert "pip install --quiet --no-deps -e ." in venv_rule
    assert "\nlock: " in makefile and "pip-compile" in makefile
    assert "make venv" in (ROOT / ".ci" / "run").read_text()


# ---- the dingsuite command --------------------------------------------------------------

def test_deploy_cli_reads_env_files_like_systemd(tmp_path):
    path = tmp_path / "env"
    path.write_text("# comment\n; also\n\nA=1\nB = \"two words\"\nC='x=y'\nEMPTY=\n")
    assert cli.read_env_file(path) == {"A": "1", "B": "two words", "C": "x=y", "EMPTY": ""}
    path.write_text("A=1\nthe-secret-value\n")
    with pytest.raises(ValueError, match="line 2") as raised:
        cli.read_env_file(path)
    assert "the-secret-value" not in str(raised.value)
    environ = {"DINGSUITE_ENV_FILE": str(tmp_path / "ok"), "B": "set"}
    (tmp_path / "ok").write_text("A=file\nB=file\n")
    assert cli.load_environment(environ) == tmp_path / "ok"
    assert environ["A"] == "file" and environ["B"] == "set"  # the environment wins
    with pytest.raises(SystemExit, match="no such file"):
        cli.load_environment({"DINGSUITE_ENV_FILE": str(tmp_path / "missing")})
    assert cli.load_environment({"DINGSUITE_ENV_FILE": ""}) is None


def _dingsuite(env_path: Path | None, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_", "DINGSUITE_"))}
    env.update(extra)
    if env_path is not None:
        env["DINGSUITE_ENV_FILE"] = str(env_path)
    script = Path(sys.executable).parent / "dingsuite"
    return subprocess.run([str(script), *args], cwd="/", env=env, timeout=120,
                          capture_output=True, text=True)


def test_deploy_cli_runs_management_commands_with_production_settings(tmp_path):
    env_path = tmp_path / "env"
    values = env_file("env.example") | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DJANGO_SETTINGS_MODULE": "",
        "FIELD_ENCRYPTION_KEYS": "dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ="}
    env_path.write_text("".join(f"{k}={v}\n" for k, v in values.items() if v))
    probe = "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    # No DJANGO_SETTINGS_MODULE anywhere: production (config/celery.py's local default, set
    # while the package is imported, does not count), from any directory.
    done = _dingsuite(env_path, "shell", "-c", probe)
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.split()[-2:] == ["config.settings.production", "False"]
    done = _dingsuite(env_path, "shell", "-c", probe, DJANGO_SETTINGS_MODULE="config.settings.test")
    assert done.stdout.split()[-2:] == ["config.settings.test", "False"]
    done = _dingsuite(env_path, "migrate", "--noinput", "-v", "0")
    assert done.returncode == 0, done.stderr[-1500:]
    assert (tmp_path / "db.sqlite3").stat().st_size > 0
    # A missing secret is one line naming it, not a traceback.
    env_path.write_text("DATABASE_URL=sqlite:///x\n")
    done = _dingsuite(env_path, "migrate")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("dingsuite: DJANGO_SECRET_KEY must be set in production "
                                   "(see deploy/env.example)")

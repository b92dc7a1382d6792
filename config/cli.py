"""`dingsuite`: Django's management commands for an installed dingsuite, without manage.py or a
source tree, under the production settings unless DJANGO_SETTINGS_MODULE names others.

    sudo -u dingsuite dingsuite migrate
    sudo -u dingsuite dingsuite createsuperuser
    sudo -u dingsuite dingsuite register_suite --suite-key ...

The settings read the environment; `dingsuite` first adds the variables of the file that
DINGSUITE_ENV_FILE names (default /etc/dingsuite/env, the systemd units' EnvironmentFile, when
it exists), so a command runs with exactly the services' configuration and nobody has to
`set -a; . /etc/dingsuite/env` (which would also leave the secrets in the shell). A variable
already set in the environment wins over the file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_ENV_FILE = "/etc/dingsuite/env"
DEFAULT_SETTINGS = "config.settings.production"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them: blank lines and lines starting
    with # or ; are skipped, one pair of matching quotes around a value is removed."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier():
            # The line's text stays out of the message: it may be a secret.
            raise ValueError(f"{path}, line {number}: not a KEY=VALUE line")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def load_environment(environ: dict[str, str] | os._Environ = os.environ) -> Path | None:
    """Add the env file's variables to `environ` (set ones win); the file used, if any."""
    explicit = environ.get("DINGSUITE_ENV_FILE")
    if explicit == "":
        return None  # DINGSUITE_ENV_FILE= : the process environment only
    path = Path(explicit or DEFAULT_ENV_FILE)
    if explicit is None and not path.exists():
        return None
    try:
        values = read_env_file(path)
    except FileNotFoundError:
        raise SystemExit(f"dingsuite: DINGSUITE_ENV_FILE={path}: no such file") from None
    except PermissionError:
        raise SystemExit(f"dingsuite: cannot read {path}: run as the dingsuite user "
                         "(sudo -u dingsuite dingsuite ...) or root") from None
    except ValueError as exc:
        raise SystemExit(f"dingsuite: {exc}") from None
    for name, value in values.items():
        environ.setdefault(name, value)
    return path


def _settings_module_at_start() -> str | None:
    """DJANGO_SETTINGS_MODULE as the caller set it. Importing this module ran config/__init__.py,
    whose Celery app (config/celery.py) already defaulted os.environ to the local settings; the
    environment the process started with (Linux keeps it in /proc) still says what was given."""
    try:
        startup = Path("/proc/self/environ").read_bytes().split(b"\0")
    except OSError:  # no /proc: only os.environ is left to ask
        return os.environ.get("DJANGO_SETTINGS_MODULE")
    for entry in startup:
        name, _, value = entry.partition(b"=")
        if name == b"DJANGO_SETTINGS_MODULE" and value:
            return os.fsdecode(value)
    return None


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    given = _settings_module_at_start()
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    load_environment()
    os.environ["DJANGO_SETTINGS_MODULE"] = (
        given or os.environ.get("DJANGO_SETTINGS_MODULE") or DEFAULT_SETTINGS)
    from django.conf import settings
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 (imports the settings: a missing secret stops here)
    except RuntimeError as exc:  # production settings name what is missing; no traceback
        raise SystemExit(f"dingsuite: {exc}") from None
    execute_from_command_line(["dingsuite", *argv[1:]])


if __name__ == "__main__":
    main()

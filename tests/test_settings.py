"""Settings: production refuses to start without its secrets; local runs on embedded defaults."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV_NAMES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "DJANGO_SETTINGS_MODULE",
)


def _load(module: str, extra_env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_NAMES}
    env.update({"DINGSUITE_VAR_DIR": str(tmp_path), **extra_env})
    code = (
        f"import importlib; s = importlib.import_module({module!r}); "
        "print(s.DATABASES['default']['ENGINE']); print(s.CELERY_BROKER_URL)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_settings_production_refuses_missing_secret_key(tmp_path):
    result = _load("config.settings.production", {}, tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_settings_production_refuses_missing_encryption_keys(tmp_path):
    env = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://u@127.0.0.1/db",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    result = _load("config.settings.production", env, tmp_path)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_settings_local_runs_on_sqlite_and_a_serverless_broker(tmp_path):
    result = _load("config.settings.local", {}, tmp_path)
    assert result.returncode == 0, result.stderr
    engine, broker = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert (tmp_path / "broker" / "queue").is_dir()


def test_settings_production_runs_without_redis_but_not_without_a_broker(tmp_path):
    """REDIS_URL is optional (tokens lock in PostgreSQL); a Celery broker is not."""
    env = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://u@127.0.0.1/db",
        "FIELD_ENCRYPTION_KEYS": "dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ=",
    }
    result = _load("config.settings.production", env, tmp_path)
    assert result.returncode != 0 and "CELERY_BROKER_URL" in result.stderr
    result = _load("config.settings.production",
                   {**env, "CELERY_BROKER_URL": "amqp://guest@127.0.0.1//"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "amqp://guest@127.0.0.1//"


def test_settings_wsgi_defaults_to_production_even_though_config_loads_celery(tmp_path):
    """Importing config.wsgi imports the config package (and its Celery app) first: the
    default must still be the production settings, never the local ones with DEBUG on."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SECRET_KEY="test-only-" + "x" * 40, DATABASE_URL=f"sqlite:///{tmp_path}/x",
               CELERY_BROKER_URL="memory://", PYTHONPATH=str(root),
               FIELD_ENCRYPTION_KEYS="dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ=")
    code = ("import config.wsgi, os; from django.conf import settings; "
            "print(os.environ['DJANGO_SETTINGS_MODULE'], settings.DEBUG)")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["config.settings.production", "False"]

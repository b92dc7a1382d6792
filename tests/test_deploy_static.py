"""Production serves its static files (the admin's CSS, Swagger UI) through WhiteNoise after
collectstatic, as the image builds them; under the production settings, in a fresh process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_REQUEST = """
import django
django.setup()
from django.test import Client
c = Client()
for path in ("/static/admin/css/base.css", "/api/docs/"):
    r = c.get(path)
    print(path, r.status_code)
"""


@pytest.mark.integration
def test_deploy_static_admin_css_is_served_under_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "test-only-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "FIELD_ENCRYPTION_KEYS": "dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ=",
        "STATIC_ROOT": str(tmp_path / "static"),
        "PYTHONPATH": str(ROOT),
    })
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True, timeout=120)
    assert (tmp_path / "static" / "staticfiles.json").exists()  # hashed names (manifest)
    done = subprocess.run([sys.executable, "-c", _REQUEST], cwd=ROOT, env=env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["/static/admin/css/base.css 200", "/api/docs/ 200"]


def test_deploy_static_image_collects_static_files():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "collectstatic --noinput" in dockerfile
    assert dockerfile.index("collectstatic") < dockerfile.index("USER dingsuite")

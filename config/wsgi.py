"""WSGI entry point (gunicorn config.wsgi)."""

import os

# Before anything from `config` is imported: importing the package loads the Celery app, whose
# module defaults the settings to the local ones for `celery -A config` and manage.py.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from django.core.wsgi import get_wsgi_application  # noqa: E402

from config.wsgi_guard import charset_guard  # noqa: E402

application = charset_guard(get_wsgi_application())

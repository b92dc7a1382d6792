"""The Celery app: configured from Django settings (CELERY_*), tasks discovered in the apps."""

import os
import sys

from celery import Celery, signals

# `celery -A config ...` without DJANGO_SETTINGS_MODULE: the local settings, as manage.py.
# Only for the celery command itself: importing `config` from config.wsgi (gunicorn) must leave
# the default to it (production), never turn on the local settings' DEBUG.
if "celery" in os.path.basename(os.path.dirname(sys.argv[0] or "")) + os.path.basename(
        sys.argv[0] or ""):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("dingsuite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# config's own task (the daily purge across apps); imported here so every worker registers it.
import config.retention  # noqa: E402, F401


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _worker_logging(logger, *args, **kwargs):
    """The worker's own log handlers scrub secrets and, in production, write JSON lines."""
    from django.conf import settings

    from config.log_format import configure_handlers

    configure_handlers(logger, json_lines=settings.LOG_FORMAT == "json")


@signals.task_prerun.connect
def _task_log_context(task_id=None, task=None, **kwargs):
    from django.db import close_old_connections

    from core import log_context

    # Connections are kept across tasks (CELERY_DB_REUSE_MAX): drop one past CONN_MAX_AGE or
    # left broken by the last task, as Django does around each request.
    close_old_connections()
    log_context.set_task(f"{getattr(task, 'name', '?')}[{task_id}]")


@signals.task_postrun.connect
def _task_log_context_done(**kwargs):
    from django.db import close_old_connections

    from core import log_context

    close_old_connections()
    log_context.set_task(None)

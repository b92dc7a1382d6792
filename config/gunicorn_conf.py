"""gunicorn settings for the dingsuite web process (callbacks, admin, API).

Part of the installed package, so an install without a source tree has it too:
`gunicorn -c python:config.gunicorn_conf config.wsgi` (the systemd unit and the image).
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Callbacks must be answered within 1200-1500 ms: threads keep slow clients from starving others.
# cores + 1, not gunicorn's usual 2 x cores + 1. bench/callbacks.py, open loop at 300 pushes/s on
# 2 cores shared with PostgreSQL: 3 workers gave p99 16-47 ms and 4 gave 25 ms on a quiet
# machine, but with other load on the cores 4 workers had tails of seconds where 3 stayed far
# shorter; extra workers only add GIL and scheduler contention.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# The query string of a callback carries its signature; log the path only.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


def child_exit(server, worker) -> None:
    """A dead worker's metric files are merged and closed (prometheus_client multiprocess)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _escaped(value: str) -> str:
    # A path is the sender's text: "%0a" would otherwise start a forged log line.
    return value if value.isprintable() else value.encode("unicode_escape").decode("ascii")


class EscapingLogger(Logger):
    """gunicorn's logger with every request-supplied access-log value escaped."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: _escaped(v) if isinstance(v, str) else v for k, v in atoms.items()}


logger_class = EscapingLogger

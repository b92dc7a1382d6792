"""Optional: serve the emulator from one gunicorn process with gthread workers (keep-alive).

werkzeug's development server closes the connection after every answer; for heavy benchmarks
`python -m dingtalk.emulator --server gunicorn` keeps connections open. One worker process
only: the world lives in that process's memory.
"""

from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi as gunicorn_wsgi

from .app import Emulator

SERVER_HEADER = "DingTalk/1.0.0"


class _OneServerHeader:
    """gunicorn always writes its own Server header; make it DingTalk's and drop the app's."""

    def __init__(self, app: Emulator):
        self.app = app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() != "server"]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


class GunicornEmulator(BaseApplication):
    def __init__(self, emulator: Emulator, *, host: str, port: int, threads: int = 32,
                 on_exit=None):
        self.emulator = emulator
        self.options = {
            "bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread",
            "threads": threads, "keepalive": 5, "accesslog": None, "loglevel": "warning",
            "post_worker_init": lambda worker: emulator.pusher.start(),
            "worker_exit": lambda server, worker: on_exit() if on_exit else None,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        gunicorn_wsgi.SERVER = SERVER_HEADER
        return _OneServerHeader(self.emulator)

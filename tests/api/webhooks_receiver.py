"""A real HTTP receiver for the webhook tests (http.server in a thread, on a free port), and the
signature check of docs/webhooks.md, taken from the document itself."""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def documented_verify():
    """The `verify` function of docs/webhooks.md's Python snippet, executed as written."""
    text = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 (our own document)
    return namespace["verify"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers each POST with the next of `statuses` (then `default`), after the next of
    `delays` (then `delay_s`) seconds, with `answer` as its body ("answer <status>" when
    empty)."""

    def __init__(self, statuses=(), default: int = 200, delay_s: float = 0.0,
                 location: str = "", delays=(), answer: bytes = b"") -> None:
        self.statuses, self.delays = list(statuses), list(delays)
        self.default, self.delay_s, self.location = default, delay_s, location
        self.answer = answer
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                    delay = receiver.delays.pop(0) if receiver.delays else receiver.delay_s
                if delay:
                    time.sleep(delay)  # a slow receiver is the behaviour under test
                try:
                    self.send_response(status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                    payload = receiver.answer or f"answer {status}".encode()
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (a timeout under test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/dingsuite"

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()



@contextmanager
def receivers_running():
    """Yields `make(statuses=(500,), default=200, delay_s=0, location="")` -> a started
    Receiver; every one made is stopped on leaving."""
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        receiver = Receiver(**kwargs).start()
        made.append(receiver)
        return receiver

    try:
        yield make
    finally:
        for receiver in made:
            receiver.stop()

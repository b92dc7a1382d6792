"""EmulatorServer: the emulator on werkzeug's threaded server, in a background thread."""

import logging
import signal
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import Emulator
from .config import EmulatorConfig
from .keepalive import KeepAliveServer

log = logging.getLogger("dingtalk.emulator")


class _QuietHandler(WSGIRequestHandler):
    """No per-request access log: it costs throughput and would print tokens in query strings."""

    def log_request(self, code="-", size="-") -> None:
        return None

    def send_response(self, code, message=None) -> None:
        # The app sends `Server: DingTalk/1.0.0`; skip http.server's own Server header.
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


class EmulatorServer:
    """`EmulatorServer(config).start()` -> base URL; `.stop()`; `.state`, `.clock`, `.emulator`."""

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, fixture: dict | None = None, state_file: str | None = None,
                 keepalive: bool = False):
        self.emulator = Emulator(config, fixture=fixture)
        self.keepalive = keepalive
        self.host = host
        self.port = port
        self.state_file = state_file
        self._server: BaseWSGIServer | KeepAliveServer | None = None
        self._thread: threading.Thread | None = None
        if state_file:
            from .persist import load_if_present

            load_if_present(self.emulator, state_file)

    @property
    def state(self):
        return self.emulator.state

    @property
    def clock(self):
        return self.emulator.clock

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> str:
        if self.keepalive:
            self._server = KeepAliveServer((self.host, self.port), self.emulator)
        else:
            self._server = make_server(self.host, self.port, self.emulator, threaded=True,
                                       request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="dingtalk-emulator", daemon=True)
        self._thread.start()
        self.emulator.state_file = self.state_file
        self.emulator.pusher.start()
        return self.base_url

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (the CLI). SIGTERM stops it like Ctrl-C,
        so a --state-file is saved either way."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        self.start()
        log.info("DingTalk emulator on %s", self.base_url)
        try:
            assert self._thread is not None
            self._thread.join()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        self.emulator.pusher.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.save_state()

    def save_state(self) -> None:
        if self.state_file:
            from .persist import save

            save(self.emulator, self.state_file)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt

"""A thread-per-connection HTTP/1.1 keep-alive server for the emulator (`--server keepalive`).

werkzeug's development server closes every connection, and gunicorn's gthread worker hands each
request from its poller thread to a pool thread and back (two GIL handoffs and a pipe write per
request); here one thread owns a connection and serves its requests in a loop, so a cheap call
costs one recv, the WSGI app and one send. Same interface as werkzeug's server (serve_forever,
shutdown, server_close, server_port), so EmulatorServer runs either.
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from urllib.parse import unquote_to_bytes

SERVER_HEADER = "DingTalk/1.0.0"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version, sys_version = SERVER_HEADER, ""  # what send_error's answers carry
    timeout = 60  # an idle kept-alive connection frees its thread after this long

    def log_message(self, format, *args) -> None:  # noqa: A002
        # No access log: it costs throughput and would print tokens in query strings.
        return None

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:
            # A client (wrk at the end of a run) resetting an idle kept-alive connection.
            self.close_connection = True

    def _serve(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "chunked request bodies are not supported")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        answer: list = []

        def start_response(status, headers, exc_info=None):
            answer[:] = [status, headers]
            return self.wfile.write

        chunks = self.server.app(self._environ(body), start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        try:
            self._send(answer[0], answer[1], data)
        except OSError:
            self.close_connection = True  # a drop fault shut the socket; nothing to answer

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

    def _send(self, status: str, headers: list, data: bytes) -> None:
        names = {name.lower() for name, _ in headers}
        lines = [f"HTTP/1.1 {status}", f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if "content-length" not in names:
            lines.append(f"Content-Length: {len(data)}")
        if "server" not in names:
            lines.append(f"Server: {SERVER_HEADER}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One write: headers and body in one segment, no Nagle/delayed-ACK stall between them.
        self.wfile.write(head if self.command == "HEAD" else head + data)

    def _environ(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "", "PATH_INFO": _unquote(path),
            "QUERY_STRING": query, "SERVER_NAME": str(host), "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version, "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)) if body else "",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "dingtalk.socket": self.connection,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ


def _unquote(path: str) -> str:
    # PEP 3333: PATH_INFO is the percent-decoded path as latin-1 text (what werkzeug expects).
    return unquote_to_bytes(path).decode("latin-1")


class KeepAliveServer(ThreadingHTTPServer):
    """`KeepAliveServer((host, port), app)`; one daemon thread per connection."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app):
        self.app = app
        super().__init__(address, _Handler)

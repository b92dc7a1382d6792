"""Open-loop load for bench/callbacks.py: pushes leave at planned times, whatever the answers do.

One asyncio thread speaks HTTP/1.1 over keep-alive connections (requests are encoded before
the clock starts), so the client costs little of the 2 cores it shares with gunicorn and
PostgreSQL. Push i is planned for t0 + i/rate; a push finding no idle connection opens one (up
to max_conns), so a slow server never delays the schedule. Latency is measured from the planned
time, not from the write, so time spent waiting in the client is not hidden (no coordinated
omission); lag = write time - planned time says whether the client kept up.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

# Gunicorn closes a connection idle for `keepalive` (5 s, deploy/gunicorn.conf.py); reuse only
# connections idle for less, so a send never races the server's close.
IDLE_REUSE_S = 3.0


@dataclass
class Result:
    kind: str
    planned: float
    lag_ms: float = 0.0
    ms: float | None = None  # None: no answer (see error)
    status: int = 0
    body: bytes = b""
    error: str = ""


@dataclass
class _Pool:
    host: str
    port: int
    max_conns: int
    idle: list = field(default_factory=list)  # (reader, writer, last_used), newest last
    open: int = 0
    peak: int = 0
    retries: int = 0

    async def get(self, loop: asyncio.AbstractEventLoop):
        while True:
            while self.idle:
                reader, writer, used = self.idle.pop()
                if loop.time() - used < IDLE_REUSE_S and not reader.at_eof():
                    return reader, writer
                self.discard(writer)
            if self.open < self.max_conns:
                break
            await asyncio.sleep(0.001)  # only when every connection is busy: the lag shows it
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            self.open -= 1
            raise
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    def put(self, loop, reader, writer) -> None:
        self.idle.append((reader, writer, loop.time()))

    def discard(self, writer) -> None:
        self.open -= 1
        writer.transport.abort()

    def close(self) -> None:
        while self.idle:
            self.discard(self.idle.pop()[1])


def encode(path: str, port: int, query: dict, body: str) -> bytes:
    payload = body.encode()
    head = (f"POST {path}?{urlencode(query)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    return head.encode("ascii") + payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection", "").lower() != "close"


async def _send(pool: _Pool, loop, result: Result, request: bytes, timeout: float) -> None:
    deadline = result.planned + timeout
    for attempt in range(2):
        try:
            reader, writer = await asyncio.wait_for(pool.get(loop), deadline - loop.time())
        except (TimeoutError, OSError) as exc:
            result.error = "timeout" if isinstance(exc, TimeoutError) else "connect"
            return
        fresh_write = loop.time()
        if attempt == 0:
            result.lag_ms = (fresh_write - result.planned) * 1000
        try:
            writer.write(request)
            status, body, keep = await asyncio.wait_for(_read_response(reader),
                                                        deadline - loop.time())
        except asyncio.IncompleteReadError as exc:
            pool.discard(writer)
            if not exc.partial and attempt == 0:  # closed while idle: the request never ran
                pool.retries += 1
                continue
            result.error = "reset"
            return
        except (TimeoutError, OSError, ValueError) as exc:
            pool.discard(writer)
            result.error = "timeout" if isinstance(exc, TimeoutError) else "reset"
            return
        result.ms = (loop.time() - result.planned) * 1000
        result.status, result.body = status, body
        if status != 200:
            result.error = f"http_{status}"
        if keep:
            pool.put(loop, reader, writer)
        else:
            pool.discard(writer)
        return


@dataclass
class OpenRun:
    results: list[Result]
    first_planned: float
    sent_span_s: float
    peak_conns: int
    retries: int


async def _run(host: str, port: int, pushes: list[tuple[str, bytes]], rate: float,
               timeout: float, max_conns: int, at: dict[int, Callable[[], None]]) -> OpenRun:
    loop = asyncio.get_running_loop()
    pool = _Pool(host, port, max_conns)
    t0 = loop.time() + 0.1
    results, tasks = [], []
    for i, (kind, request) in enumerate(pushes):
        planned = t0 + i / rate
        delay = planned - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if i in at:  # side effects (hang Redis) happen on the schedule too
            at[i]()
        result = Result(kind=kind, planned=planned)
        results.append(result)
        tasks.append(loop.create_task(_send(pool, loop, result, request, timeout)))
    await asyncio.gather(*tasks)
    pool.close()
    return OpenRun(results, t0, (len(pushes) - 1) / rate, pool.peak, pool.retries)


def run_open(host: str, port: int, pushes: list[tuple[str, bytes]], *, rate: float,
             timeout: float, max_conns: int,
             at: dict[int, Callable[[], None]] | None = None) -> OpenRun:
    """Send each (kind, encoded request) at t0 + i/rate; at[i]() runs when push i is due."""
    return asyncio.run(_run(host, port, pushes, rate, timeout, max_conns, at or {}))

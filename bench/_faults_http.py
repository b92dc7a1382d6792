"""bench/faults.py's raw HTTP client and its catalogue of unsigned hostile requests."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from _callbacks_stack import alnum

# Paths go on the wire exactly as written here (percent-escapes included): an HTTP library
# would normalise or refuse the very paths this bench is about.
NUL_KEYS = ("%00", "{a}%00x")
FORGING_KEYS = ("x%0acallback%20accepted%20suite={a}%20kinds=suite_ticket%20new=1",
                "x%0d%0a2030-01-01%2000:00:00,000%20INFO%20tenants.callbacks%20forged",
                "x%1b[31mred%1b[0m")
UNKNOWN_KEYS = ("nosuchsuite0001", "k" * 65, "%E9%92%89%E9%92%89suite", "{a_upper}")
FORGED_MARKERS = (b"callback accepted suite=", b"2030-01-01 00:00:00,000 INFO")


@dataclass
class Answer:
    status: int | str  # an HTTP status, or "reset" / "timeout" when none came
    body: bytes = b""
    ms: float = 0.0


@dataclass
class Case:
    name: str
    method: str = "POST"
    query: str | None = None  # None: a well-formed (unsigned) query
    body: bytes | None = None  # None: {"encrypt": <random base64>}
    ctype: str | None = "application/json"
    length: str | None = None  # Content-Length as sent; None: the body's
    chunked: bool = False
    half_close: bool = False
    headers: list[str] = field(default_factory=list)
    timeout: float = 10.0


def request_bytes(case: Case, path: str, port: int) -> bytes:
    query = case.query if case.query is not None else good_query()
    body = case.body if case.body is not None else good_body()
    host = [] if any(h.lower().startswith("host:") for h in case.headers) else [
        f"Host: 127.0.0.1:{port}"]
    lines = [f"{case.method} {path}{'?' + query if query else ''} HTTP/1.1", *host,
             "Connection: close", *case.headers]
    if case.ctype is not None:
        lines.append(f"Content-Type: {case.ctype}")
    if case.chunked:
        lines.append("Transfer-Encoding: chunked")
        step = 65536
        body = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                        for i in range(0, len(body), step)) + b"0\r\n\r\n"
    elif case.length is not None:
        lines.append(f"Content-Length: {case.length}")
    elif body or case.method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    return "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n" + body


def send(port: int, raw: bytes, *, timeout: float = 10.0, half_close: bool = False) -> Answer:
    """One request on its own connection; the body goes from a thread so that a server which
    answers before reading it all (413) is still heard."""
    started = time.perf_counter()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError:
        return Answer("refused")

    def push() -> None:
        try:
            sock.sendall(raw)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    sender = threading.Thread(target=push, daemon=True)
    sender.start()
    chunks, outcome = [], None
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    except TimeoutError:
        outcome = "timeout"
    except OSError:
        outcome = "reset"
    finally:
        sock.close()
        sender.join(timeout=2)
    elapsed = (time.perf_counter() - started) * 1000
    data = b"".join(chunks)
    while True:
        head, _, body = data.partition(b"\r\n\r\n")
        parts = head.split(b" ", 2)
        if not (len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit()):
            return Answer(outcome or ("reset" if not data else "garbled"), data, elapsed)
        if not (parts[1].startswith(b"1") and body.startswith(b"HTTP/")):
            return Answer(int(parts[1]), body, elapsed)
        data = body  # an interim 100 Continue: the answer follows


def good_query() -> str:
    return (f"signature={os.urandom(20).hex()}&timestamp={int(time.time() * 1000)}"
            f"&nonce={alnum(8)}")


def good_body() -> bytes:
    return b'{"encrypt": "%s"}' % base64.b64encode(os.urandom(64))


def query_with(**values: str | None) -> str:
    """A well-formed query with some parameters replaced (quoted) or dropped (None)."""
    base = dict(p.split("=", 1) for p in good_query().split("&"))
    for name, value in values.items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = quote(value, safe="")
    return "&".join(f"{k}={v}" for k, v in base.items())


def _param_cases() -> list[Case]:
    cases = [Case("query: none at all", query=""),
             Case("query: signature only msg_signature", query=query_with(signature=None)
                  + f"&msg_signature={os.urandom(20).hex()}"),
             Case("query: every parameter twice", query=good_query() + "&" + good_query())]
    bad_values = {"garbage": "zz!!<>", "NUL": "ab\x00cd", "newline": "ab\ncallback accepted",
                  "CRLF": "ab\r\nX-Forged: 1", "unicode": "签名ñ\u202e", "10 KB": "a" * 10_240,
                  "1 KB": "9" * 1024, "3 KB": "a" * 3_000, "empty": "",
                  "lone surrogate escape": "%ED%A0%80"}
    for param in ("signature", "timestamp", "nonce"):
        cases.append(Case(f"query: {param} missing", query=query_with(**{param: None})))
        for label, value in bad_values.items():
            if label == "lone surrogate escape":
                query = query_with(**{param: None}) + f"&{param}={value}"
            else:
                query = query_with(**{param: value})
            cases.append(Case(f"query: {param} {label}", query=query))
    cases += [Case("query: timestamp negative", query=query_with(timestamp="-1")),
              Case("query: timestamp 1e3", query=query_with(timestamp="1e3")),
              Case("query: timestamp 30 digits", query=query_with(timestamp="9" * 30)),
              Case("query: raw non-ASCII bytes", query="signature=\u7b7e&timestamp=1&nonce=n")]
    return cases


def _body_cases() -> list[Case]:
    nested_ok = b'{"encrypt": "QUJD", "x": [[[[[[[[[[1]]]]]]]]]]}'
    return [
        Case("body: 100,000 '['", body=b"[" * 100_000),
        Case("body: '{\"a\":' x 50,000", body=b'{"a":' * 50_000),
        Case("body: 100,000 '{' text/plain", body=b"{" * 100_000, ctype="text/plain"),
        Case("body: nested 10 deep around encrypt", body=nested_ok),
        Case("body: not JSON", body=b"hello, not json"),
        Case("body: empty", body=b""),
        Case("body: JSON array", body=b'[{"encrypt": "QUJD"}]'),
        Case("body: JSON string", body=b'"encrypt"'),
        Case("body: {}", body=b"{}"),
        Case('body: {"encrypt": 5}', body=b'{"encrypt": 5}'),
        Case('body: {"encrypt": null}', body=b'{"encrypt": null}'),
        Case('body: {"encrypt": ["a"]}', body=b'{"encrypt": ["a"]}'),
        Case('body: {"encrypt": ""}', body=b'{"encrypt": ""}'),
        Case('body: {"encrypt": "<not base64>"}', body=b'{"encrypt": "!!not base64 at all!!"}'),
        Case('body: {"encrypt": "YWJj"} (not a block)', body=b'{"encrypt": "YWJj"}'),
        Case('body: {"encrypt": 1e400}', body=b'{"encrypt": 1e400}'),
        Case('body: {"encrypt": NaN}', body=b'{"encrypt": NaN}'),
        Case("body: 5,000-digit number", body=b'{"encrypt": 1' + b"0" * 5000 + b"}"),
        Case("body: encrypt with \\u0000", body=b'{"encrypt": "QUJD\\u0000"}'),
        Case("body: raw NUL byte", body=b'{"encrypt": "QUJD\x00"}'),
        Case("body: lone surrogate escape", body=b'{"encrypt": "\\ud800"}'),
        Case("body: invalid UTF-8", body=b'{"encrypt": "\xff\xfe\xfd"}'),
        Case("body: UTF-16 JSON", body='{"encrypt": "QUJD"}'.encode("utf-16")),
        Case("body: duplicate keys", body=b'{"encrypt": "QUJD", "encrypt": 5}'),
        Case("body: 200 KB base64 encrypt", body=b'{"encrypt": "%s"}' % (b"A" * 200_000)),
        Case("body: 10 MB (Content-Length)", body=b"A" * 10_000_000),
        Case("body: 10 MB chunked", body=b'{"encrypt": "' + b"A" * 10_000_000 + b'"}',
             chunked=True),
        Case("body: huge Content-Length, small body", length=str(10**12)),
        Case("body: Content-Length 1000, 10 bytes, half-closed", body=b'{"encrypt"',
             length="1000", half_close=True),
        Case("body: Content-Length 1000, 10 bytes, held open 3 s", body=b'{"encrypt"',
             length="1000", timeout=3),
        Case("body: Content-Length -1", length="-1"),
        Case("body: Content-Length abc", length="abc"),
        Case("body: Content-Length twice", headers=["Content-Length: 5"]),
    ]


def _method_and_header_cases() -> list[Case]:
    cases = [Case(f"method: {m}", method=m, body=b"") for m in
             ("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO")]
    cases.append(Case("method: PUT with a body", method="PUT"))
    for ctype in ("text/plain", "application/x-www-form-urlencoded",
                  "multipart/form-data", "multipart/form-data; boundary=x",
                  "application/json; charset=utf-16", "application/json; charset=rot13",
                  "application/json; charset=base64", "application/json; charset=bogus",
                  "application/json; charset=\"", "\u00e9/\u00e9", ""):
        cases.append(Case(f"content type: {ctype!r}", ctype=ctype))
    cases.append(Case("content type: none", ctype=None))
    cases.append(Case("form body with 10,000 fields", ctype="application/x-www-form-urlencoded",
                      body=b"&".join(b"f%d=1" % i for i in range(10_000))))
    cases += [Case("header: Host evil.example", headers=["Host: evil.example"]),
              Case("header: 8 KB header", headers=["X-Big: " + "a" * 8_000]),
              Case("header: 200 headers", headers=[f"X-H{i}: 1" for i in range(200)]),
              Case("header: Expect 100-continue", headers=["Expect: 100-continue"]),
              Case("header: X-Forwarded-For forged", headers=["X-Forwarded-For: 1.2.3.4"])]
    return cases


def junk_cases() -> list[Case]:
    return _param_cases() + _body_cases() + _method_and_header_cases()


def key_variants(known: tuple[str, ...]) -> list[tuple[str, str]]:
    """(label, path segment as sent): the known keys first, then keys no suite can have."""
    a = known[0]
    fill = {"a": a, "a_upper": a.upper()}
    out = [(f"known {k}", k) for k in known]
    for template in UNKNOWN_KEYS + NUL_KEYS + FORGING_KEYS:
        out.append((template.format(**fill)[:40], template.format(**fill)))
    return out


def fixed_paths(known: tuple[str, ...]) -> list[tuple[str, str]]:
    """Paths outside /callbacks/<key>/ or odd around it: (label, path)."""
    a = known[0]
    return [("no trailing slash", f"/callbacks/{a}"), ("extra segment", f"/callbacks/{a}/x/"),
            ("empty key", "/callbacks//"), ("dot-dot key", "/callbacks/%2e%2e/"),
            ("invalid UTF-8 key", "/callbacks/%ff%fe/"), ("encoded slash", f"/callbacks/{a}%2fx/"),
            ("NUL only path", "/%00"), ("3 KB key", f"/callbacks/{'a' * 3000}/"),
            ("5 KB key (past the request-line limit)", f"/callbacks/{'a' * 5000}/"),
            ("raw non-ASCII key", "/callbacks/钉钉/"), ("root", "/"),
            ("newline path", "/x%0acallback%20accepted%20suite=" + a)]

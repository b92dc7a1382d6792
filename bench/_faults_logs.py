"""bench/faults.py's reading of gunicorn's output: secrets, forged lines, tracebacks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from _faults_http import FORGED_MARKERS

# The three shapes a line of the web process's output may have: Django's formatter
# (config/settings/base.py), gunicorn's error log, gunicorn's access log (deploy/gunicorn.conf.py).
DJANGO_LINE = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+ ")
GUNICORN_LINE = re.compile(rb"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ")
ACCESS_LINE = re.compile(rb'127\.0\.0\.1 ".*" \d{3} (\d+|-) \d+\.\d{6}s')
TRACEBACK_PART = re.compile(rb"(Traceback \(most recent|During handling|The above exception|\s|"
                            rb"[A-Za-z_][\w.]*(Error|Exception|Warning)\b)")


@dataclass
class LogFindings:
    secrets: dict[str, int] = field(default_factory=dict)  # secret's label -> occurrences
    looked_for: int = 0  # how many secret values were searched for
    raw_nul: int = 0
    raw_cr: int = 0
    raw_esc: int = 0
    forged: list[bytes] = field(default_factory=list)  # lines that start with request text
    cut: int = 0  # access lines ended early by a raw CR/LF from the request
    stray: list[bytes] = field(default_factory=list)  # lines of no known shape
    tracebacks: int = 0
    raised: dict[str, int] = field(default_factory=dict)  # a traceback's exception -> count
    lines: int = 0


def kind_of(line: bytes) -> str:
    if ACCESS_LINE.fullmatch(line):
        return "access"
    if DJANGO_LINE.match(line):
        return "app"
    if GUNICORN_LINE.match(line):
        return "gunicorn"
    if line.startswith(b"Traceback (most recent"):
        return "traceback"
    if not line or TRACEBACK_PART.match(line):
        return "traceback-part"
    return "stray"


def scan(log: bytes, secrets: dict[str, str]) -> LogFindings:
    found = LogFindings(raw_nul=log.count(b"\x00"), raw_cr=log.count(b"\r"),
                        raw_esc=log.count(b"\x1b"), looked_for=len(secrets))
    for label, value in secrets.items():
        hits = log.count(value.encode("utf-8"))
        if hits:
            found.secrets[label] = hits
    in_traceback = False
    for line in log.split(b"\n"):
        found.lines += 1
        kind = kind_of(line)
        if any(line.lstrip(b"\r").startswith(marker) for marker in FORGED_MARKERS):
            found.forged.append(line)
        elif kind == "traceback":
            found.tracebacks += 1
            in_traceback = True
        elif in_traceback and line[:1] not in (b" ", b""):
            name = line.split(b":", 1)[0].decode("utf-8", "replace")[-60:]
            found.raised[name] = found.raised.get(name, 0) + 1
            in_traceback = False
        elif kind == "stray" and line.startswith(b'127.0.0.1 "'):
            found.cut += 1
        elif kind == "stray":
            found.stray.append(line)
    return found


def classify(log: bytes) -> dict[str, int]:
    """Lines of each kind (access, app, gunicorn, traceback, ...) in a slice of the output."""
    counts: dict[str, int] = {}
    for line in log.split(b"\n"):
        if line:
            kind = kind_of(line)
            counts[kind] = counts.get(kind, 0) + 1
    return counts

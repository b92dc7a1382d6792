"""bench/faults.py's findings and the table it prints: which goal each figure meets."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from _faults_http import Answer
from _faults_logs import LogFindings

SHOWN = 70  # characters of a request or body shown in a finding


@dataclass
class Report:
    tried: int = 0
    statuses: Counter = field(default_factory=Counter)
    five_xx: list[str] = field(default_factory=list)
    no_answer: list[str] = field(default_factory=list)
    probing: list[str] = field(default_factory=list)
    signed: int = 0
    violations: list[str] = field(default_factory=list)
    stored_by_junk: int = 0
    logs: LogFindings | None = None
    down: dict = field(default_factory=dict)

    def record(self, what: str, answer: Answer) -> None:
        self.tried += 1
        self.statuses[answer.status] += 1
        if isinstance(answer.status, int) and answer.status >= 500:
            self.five_xx.append(f"{what} -> {answer.status} {answer.body[:SHOWN]!r}")
        elif not isinstance(answer.status, int):
            self.no_answer.append(f"{what} -> {answer.status} after {answer.ms:.0f} ms")


def goals(report: Report) -> list[tuple[str, str, bool]]:
    """(figure, value, goal met) rows of the table."""
    logs, down = report.logs or LogFindings(), report.down
    lines = down.get("down_lines", {})
    failed = sum(down.get("down_status", {}).values())
    per_push = sum(n for k, n in lines.items() if k != "access") / max(failed, 1)
    after = down.get("after", {})
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(report.statuses.items(), key=str))
    return [
        ("inputs tried (unsigned + signed)", f"{report.tried} ({report.signed} signed)", True),
        ("statuses seen", statuses, True),
        ("5xx answers (goal 0)", str(len(report.five_xx)), not report.five_xx),
        ("no answer (timeouts/resets, informational)", str(len(report.no_answer)), True),
        ("unknown vs known key answers differ (goal 0)", str(len(report.probing)),
         not report.probing),
        ("rows stored by unsigned junk (goal 0)", str(report.stored_by_junk),
         report.stored_by_junk == 0),
        ("signed-case rule violations (goal 0)", str(len(report.violations)),
         not report.violations),
        ("secrets in gunicorn output (goal 0)",
         f"{sum(logs.secrets.values())} (of {logs.looked_for} values looked for)",
         not logs.secrets),
        ("raw NUL / CR / ESC bytes in output (goal 0 NUL, 0 CR)",
         f"{logs.raw_nul} / {logs.raw_cr} / {logs.raw_esc}", not logs.raw_nul and not logs.raw_cr),
        ("forged lines (request text at a line start, goal 0)", str(len(logs.forged)),
         not logs.forged),
        ("access lines cut short by a raw CR/LF", str(logs.cut), not logs.cut),
        ("other lines of no known shape", str(len(logs.stray)), not logs.stray),
        ("tracebacks in output", f"{logs.tracebacks} ({_counter(logs.raised)})",
         logs.tracebacks == 0),
        ("DB up: 5 pushes", _counter(down.get("before", {})),
         down.get("before", {}).get(200) == 5),
        ("DB down: statuses of 50 pushes (goal all 503)", _counter(down.get("down_status", {})),
         down.get("down_status", {}).get(503) == 50),
        ("DB down: body codes (goal database_unavailable)", _counter(down.get("down_code", {})),
         down.get("down_code", {}).get("database_unavailable") == 50),
        ("DB down: slowest answer ms", f"{down.get('down_max_ms', 0):.0f}", True),
        ("DB down: log lines by kind", _counter(lines), True),
        ("DB down: non-access lines per failed push (goal 1)", f"{per_push:.2f}",
         per_push == 1.0 and lines.get("traceback", 0) == 0),
        ("DB back: accepted again", f"{after.get('recovered')} after {after.get('tries')} "
         f"pushes, {after.get('seconds', 0):.1f} s; failures {_counter(after.get('failures', {}))}",
         bool(after.get("recovered"))),
        ("DB outage log: secrets / forged / tracebacks", _outage_log(down),
         _outage_log(down) == "0 / 0 / 0"),
    ]


def _counter(counter) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items(), key=str)) or "-"


def _outage_log(down: dict) -> str:
    found = down.get("log_findings")
    if found is None:
        return "not run"
    return f"{sum(found.secrets.values())} / {len(found.forged)} / {found.tracebacks}"


def print_report(report: Report) -> bool:
    for title, items in (("5xx answers", report.five_xx), ("rule violations", report.violations),
                         ("answers that tell keys apart", report.probing),
                         ("no answer", report.no_answer)):
        if items:
            print(f"\n{title} ({len(items)}):")
            for item in items[:40]:
                print(f"  {item}")
    logs = report.logs or LogFindings()
    for title, items in (("secrets in output", [f"{k}: {v}" for k, v in logs.secrets.items()]),
                         ("forged lines", logs.forged), ("lines of no known shape", logs.stray)):
        if items:
            print(f"\n{title} ({len(items)}):")
            for item in items[:8]:
                print(f"  {item[:160]!r}" if isinstance(item, bytes) else f"  {item}")
    if report.down.get("down_sample"):
        print("\nDB down, first non-access lines:")
        for line in report.down["down_sample"]:
            print(f"  {line[:200]!r}")
    rows = goals(report)
    width = max(len(name) for name, _v, _ok in rows)
    print("\n" + "figure".ljust(width) + "  ok    value")
    for name, value, ok in rows:
        print(f"{name.ljust(width)}  {'yes' if ok else 'NO ':<4}  {value}")
    return all(ok for _n, _v, ok in rows)

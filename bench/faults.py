"""Fault bench: hostile requests and a PostgreSQL outage against the callback endpoint; figures.

Starts the stack the way bench/callbacks.py does -- a throwaway database dingsuite_faults_<random>
on DATABASE_URL's server, its own redis-server on a free port, gunicorn serving config.wsgi with
production settings (deploy/gunicorn.conf.py) -- registers two suites (SyncHTTP with a suite_id,
HTTP push) with known secrets, then:

1. unsigned junk (bad paths, keys, query parameters, bodies, sizes, methods, content types),
   each sent under both known keys and under keys no suite has; every answer must match the
   known key's (no probing for registered suites) and none may be a 5xx;
2. signed pushes (the suite's token and AES key) with hostile plaintexts: each must be stored
   and answered with an encrypted "success" -- except pushes naming or sealed for the other
   suite, which must be refused (4xx) with nothing stored;
3. gunicorn's output: no suite secret, token, AES key or pushed ticket; no raw NUL, CR or
   newline from a request inside a line (log forging); tracebacks counted;
4. PostgreSQL down: a private server (initdb + pg_ctl in a temp dir, free port; the shared one is
   never touched) under a second gunicorn; a few pushes, `pg_ctl stop -m immediate`, 50 pushes
   (goal: all 503 database_unavailable, one log line each besides the access line, no
   traceback), restart, pushes accepted again.

Prints a table and exits 1 if any goal fails. Cleans up on any exit (--time-limit bounds it):

    .venv/bin/python bench/faults.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets as pysecrets
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import _callbacks_stack as stack
import psycopg
from _callbacks_stack import ROOT, OwnRedis, alnum
from _faults_http import Answer, Case, fixed_paths, junk_cases, key_variants, request_bytes, send
from _faults_logs import scan
from _faults_pg import PrivatePostgres, outage_run, serving, wait_for_flush
from _faults_report import SHOWN, Report, print_report
from _faults_signed import SuiteInfo, push_request, signed_cases, wrong_suite_cases

VAR = ROOT / "var"


def register_suites(env: dict[str, str]) -> tuple[SuiteInfo, SuiteInfo]:
    tag = pysecrets.token_hex(3)
    made = []
    for key, suite_id, style in ((f"suitefaultsa{tag}", "14999999101", "sync_http"),
                                 (f"suitefaultsb{tag}", "14999999102", "http")):
        suite = SuiteInfo(key, suite_id, style, alnum(40), alnum(24), alnum(43))
        stack.manage(dict(env, DINGTALK_SUITE_SECRET=suite.secret,
                          DINGTALK_CALLBACK_TOKEN=suite.token,
                          DINGTALK_ENCODING_AES_KEY=suite.aes_key),
                     "register_suite", "--suite-key", key, "--suite-id", suite_id,
                     "--push-style", style, "--name", "faults")
        made.append(suite)
    return made[0], made[1]


def counts(db_url: str) -> tuple[int, int]:
    with psycopg.connect(db_url) as conn:
        return (conn.execute("SELECT count(*) FROM tenants_callbackevent").fetchone()[0],
                conn.execute("SELECT count(*) FROM tenants_suiteticket").fetchone()[0])


def run_junk(port: int, suites: tuple[SuiteInfo, SuiteInfo], report: Report) -> None:
    """Every junk case under every key; each answer must equal the first known key's."""
    variants = key_variants(tuple(s.key for s in suites))
    jobs = [(case, label, f"/callbacks/{segment}/") for case in junk_cases()
            for label, segment in variants]
    jobs += [(Case(f"path: {label}"), label, path) for label, path in
             fixed_paths(tuple(s.key for s in suites))]

    def one(job):
        case, _label, path = job
        return send(port, request_bytes(case, path, port), timeout=case.timeout,
                    half_close=case.half_close)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(one, jobs))
    reference: dict[str, tuple] = {}
    for (case, label, path), answer in zip(jobs, answers, strict=True):
        report.record(f"{case.name} | {path[:SHOWN]!r}", answer)
        if case.name.startswith("path: "):
            continue
        # gunicorn's own 400 page echoes the request line: the key as sent is not a finding.
        seen = (answer.status, answer.body.replace(path.encode("utf-8"), b"<path>"))
        first = reference.setdefault(case.name, seen)
        if seen != first:
            report.probing.append(f"{case.name} | key {label!r}: {seen[0]} "
                                  f"{seen[1][:SHOWN]!r} vs known key's {first[0]} "
                                  f"{first[1][:SHOWN]!r}")


def check_signed(suite: SuiteInfo, case, answer: Answer, before, after) -> str | None:
    """What breaks the rule for this case, or None."""
    if case.expect == "refused":
        if not (isinstance(answer.status, int) and 400 <= answer.status < 500):
            return f"answered {answer.status}, want 4xx"
        if after != before:
            return f"stored {after[0] - before[0]} events, {after[1] - before[1]} tickets"
        return None
    if answer.status != 200:
        return f"answered {answer.status} {answer.body[:SHOWN]!r}, want 200 success"
    try:
        reply = json.loads(answer.body)
        text = suite.crypto().verify_and_decrypt(
            signature=reply["msg_signature"], timestamp=reply["timeStamp"],
            nonce=reply["nonce"], encrypt=reply["encrypt"])
    except Exception as exc:  # noqa: BLE001 -- any unreadable reply is the finding
        return f"reply does not verify/decrypt ({type(exc).__name__})"
    if text != "success":
        return f"reply decrypts to {text[:SHOWN]!r}"
    if after[0] <= before[0]:
        return "200 success but no new row in tenants_callbackevent"
    return None


def run_signed(port: int, suites: tuple[SuiteInfo, SuiteInfo], db_url: str,
               report: Report, tickets: list[str]) -> None:
    for suite, other in (suites, suites[::-1]):
        cases = signed_cases(suite, tickets) + wrong_suite_cases(suite, other, tickets)
        for case in cases:
            query, body = push_request(suite, case)
            raw = request_bytes(Case(case.name, query=query, body=body),
                                f"/callbacks/{suite.key}/", port)
            before = counts(db_url)
            answer = send(port, raw, timeout=15)
            after = counts(db_url)
            report.record(f"signed to {suite.push_style} suite: {case.name}", answer)
            report.signed += 1
            problem = check_signed(suite, case, answer, before, after)
            if problem:
                report.violations.append(f"{suite.push_style} suite, {case.name}: {problem}")
        tickets += re.findall(r"tkt[A-Za-z0-9]{8,}", " ".join(
            c.plaintext for c in cases if isinstance(c.plaintext, str)))


def secrets_of(suites, tickets: list[str], env: dict[str, str]) -> dict[str, str]:
    found = {f"{s.push_style} {name}": value for s in suites
             for name, value in zip(("suite secret", "token", "AES key"), s.secrets(),
                                    strict=True)}
    found.update({f"ticket {t[:8]}…": t for t in tickets})
    found["DJANGO_SECRET_KEY"] = env["DJANGO_SECRET_KEY"]
    found["FIELD_ENCRYPTION_KEYS"] = env["FIELD_ENCRYPTION_KEYS"]
    return found


def create_database(base_url: str) -> str:
    name = f"dingsuite_faults_{pysecrets.token_hex(4)}"
    with psycopg.connect(base_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_catalogue(base_db: str, redis_url: str, report: Report) -> None:
    db_url = create_database(base_db)
    try:
        port = stack.free_port()
        env = stack.server_env(db_url, redis_url, 2, port)
        stack.manage(env, "migrate", "--noinput")
        suites = register_suites(env)
        log_path = VAR / "bench-faults-gunicorn.log"
        with serving(env, port, log_path):
            run_served(port, db_url, suites, env, log_path, report)
    finally:
        drop_database(db_url)


def run_served(port: int, db_url: str, suites, env: dict[str, str], log_path,
               report: Report) -> None:
    print(f"gunicorn on :{port}, database {db_url.rsplit('/', 1)[1]}; unsigned junk ...",
          flush=True)
    before = counts(db_url)
    run_junk(port, suites, report)
    report.stored_by_junk = sum(counts(db_url)) - sum(before)
    print(f"  {report.tried} requests; signed pushes ...", flush=True)
    tickets: list[str] = []
    run_signed(port, suites, db_url, report, tickets)
    report.logs = scan(wait_for_flush(log_path), secrets_of(suites, tickets, env))


def run_outage(redis_url: str, report: Report) -> None:
    print("PostgreSQL outage on a private server ...", flush=True)
    pg = PrivatePostgres()
    try:
        out = outage_run(pg, redis_url)
    finally:
        pg.destroy()
    suite = out["suite"]
    named = dict(zip(("suite secret", "token", "AES key"), suite.secrets(), strict=True))
    named.update({f"ticket {t[:8]}…": t for t in out["tickets"]})
    named["DJANGO_SECRET_KEY"] = out["env"]["DJANGO_SECRET_KEY"]
    out["log_findings"] = scan(out["log"].read_bytes(), named)
    report.down = out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=int, default=300, help="seconds before giving up")
    parser.add_argument("--skip-outage", action="store_true")
    args = parser.parse_args()
    # SIGTERM and the time limit unwind like Ctrl-C: every finally below runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"time limit {args.time_limit} s"))
    signal.alarm(args.time_limit)
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    VAR.mkdir(exist_ok=True)
    own_redis = OwnRedis(VAR / "bench-faults-redis.log")
    report = Report()
    started = time.monotonic()
    try:
        run_catalogue(base_db, own_redis.url, report)
        if not args.skip_outage:
            run_outage(own_redis.url, report)
    finally:
        own_redis.stop()
    print(f"\n{time.monotonic() - started:.0f} s")
    sys.exit(0 if print_report(report) else 1)


if __name__ == "__main__":
    main()

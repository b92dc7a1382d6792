"""Benchmark: DingTalkClient (pooled, cached token) against the seed's token-per-call client.

Starts an emulator in-process (rate limits off), then measures calls per second of `user/get`
with 1 and 16 threads for each client, and counts token fetches from the emulator's counters.

    .venv/bin/python bench/client.py [--seconds 3] [--threads 1 16] [--base-url URL]

With --base-url the emulator is not started: point it at one you run yourself (for example
`python -m dingtalk.emulator --port 9000 --no-rate-limits`), which keeps the emulator's work
out of this process (and its GIL).
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from dingtalk.client import DingTalkClient
from dingtalk.credentials import AppCredentials
from dingtalk.emulator import EmulatorConfig, EmulatorControl, EmulatorServer


@dataclass
class Run:
    name: str
    threads: int
    calls: int
    errors: int
    seconds: float
    token_fetches: int

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


def hammer(call: Callable[[], object], threads: int, seconds: float) -> tuple[int, int, float]:
    """Run `call` in a loop on `threads` threads for `seconds`; -> (calls, errors, elapsed)."""
    counts = [0] * threads
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    deadline = [0.0]

    def worker(i: int) -> None:
        start.wait()
        while time.monotonic() < deadline[0]:
            try:
                call()
                counts[i] += 1
            except Exception:  # counted: a benchmark keeps going and reports errors
                errors[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    began = time.monotonic()
    deadline[0] = began + seconds
    start.wait()
    for thread in pool:
        thread.join()
    return sum(counts), sum(errors), time.monotonic() - began


def naive_user_get(base_url: str, app: dict, userid: str) -> None:
    """What the seed did per request: fetch a token, then call, with no connection reuse."""
    token = requests.get(f"{base_url}/gettoken", timeout=10,
                         params={"appkey": app["appkey"], "appsecret": app["appsecret"]}).json()
    body = requests.get(f"{base_url}/user/get", timeout=10,
                        params={"access_token": token["access_token"], "userid": userid}).json()
    if body.get("errcode"):
        raise RuntimeError(body.get("errmsg"))


def measure(control: EmulatorControl, name: str, call: Callable[[], object], threads: int,
            seconds: float, appkey: str) -> Run:
    control.reset_counters()
    calls, errors, elapsed = hammer(call, threads, seconds)
    fetches = control.counters()["token_fetches"]["gettoken"].get(appkey, 0)
    return Run(name, threads, calls, errors, elapsed, fetches)


def print_table(runs: list[Run]) -> None:
    print(f"{'client':<12} {'threads':>7} {'calls':>7} {'errors':>6} {'calls/s':>9} "
          f"{'token fetches':>13} {'speed-up':>8}")
    naive = {r.threads: r for r in runs if r.name == "naive"}
    for run in runs:
        base = naive.get(run.threads)
        ratio = f"{run.rate / base.rate:.1f}x" if base and base.rate else "-"
        print(f"{run.name:<12} {run.threads:>7} {run.calls:>7} {run.errors:>6} "
              f"{run.rate:>9.0f} {run.token_fetches:>13} {ratio:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--base-url", default=None)
    args = parser.parse_args()

    server = None
    base_url = args.base_url
    if base_url is None:
        server = EmulatorServer(EmulatorConfig(rate_limits_enabled=False))
        base_url = server.start()
    control = EmulatorControl(base_url)
    control.set_config(rate_limits_enabled=False)
    corp = control.create_corp(users=50)
    app = control.create_app(corp["corp_id"])
    userid = corp["userids"][0]
    client = DingTalkClient(AppCredentials(app["appkey"], app["appsecret"]), base_url=base_url,
                            pool_size=max(args.threads))
    client.users.get(userid)  # warm: the first token fetch is not part of the figures

    runs = []
    for threads in args.threads:
        runs.append(measure(control, "dingsuite", lambda: client.users.get(userid), threads,
                            args.seconds, app["appkey"]))
        runs.append(measure(control, "naive", lambda: naive_user_get(base_url, app, userid),
                            threads, args.seconds, app["appkey"]))
    where = "in-process" if server else base_url
    print(f"user/get through the emulator ({where}, rate limits off), "
          f"{args.seconds:g} s per run")
    print_table(runs)
    client.close()
    if server:
        server.stop()


if __name__ == "__main__":
    main()

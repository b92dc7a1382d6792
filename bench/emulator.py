"""Emulator throughput: requests/second of an authenticated user/get under concurrent load (wrk).

Needs wrk (Debian/Ubuntu: `apt-get install -y wrk`). Starts the emulator in a subprocess
(`python -m dingtalk.emulator --no-rate-limits --server werkzeug|keepalive|gunicorn`), creates
a corp and an internal app over the control API, fetches a token, then runs wrk against
/user/get at a few connection counts. Prints a table per server.

    python bench/emulator.py [--duration 10] [--connections 4 16 64] [--threads 2]
                             [--users 5000] [--server werkzeug keepalive gunicorn]
                             [--server-threads N]
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dingtalk.emulator.control_client import EmulatorControl  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator(port: int, server: str, server_threads: int | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "dingtalk.emulator", "--host", "127.0.0.1", "--port", str(port),
           "--no-rate-limits", "--log-level", "WARNING", "--server", server]
    if server_threads is not None and server == "gunicorn":
        cmd += ["--threads", str(server_threads)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/_emulator/clock", timeout=1)
            return proc
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the emulator did not start within 15 s")


def run_wrk(url: str, *, threads: int, connections: int, duration: int) -> dict:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return {"rps": rps, "requests": total, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "none",
            "p50": p50.group(1) if p50 else "?", "p99": p99.group(1) if p99 else "?"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--server-threads", type=int, help="gunicorn worker threads")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--server", nargs="+", default=["werkzeug", "keepalive", "gunicorn"],
                        choices=["werkzeug", "keepalive", "gunicorn"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    summary = {}
    for server in args.server:
        summary[server] = bench_server(server, args)
    print(json.dumps({"bench": "emulator user/get", "results": summary}))


def bench_server(server: str, args: argparse.Namespace) -> list[dict]:
    port = free_port()
    proc = start_emulator(port, server, args.server_threads)
    try:
        control = EmulatorControl(f"http://127.0.0.1:{port}")
        t0 = time.perf_counter()
        corp = control.create_corp(users=args.users)
        generated = time.perf_counter() - t0
        app = control.create_app(corp["corp_id"])
        token = requests.get(f"{control.base_url}/gettoken", params={
            "appkey": app["appkey"], "appsecret": app["appsecret"]}).json()["access_token"]
        url = f"{control.base_url}/user/get?access_token={token}&userid={corp['userids'][42]}"
        check = requests.get(url).json()
        assert check["errcode"] == 0, check
        print(f"\n{server}: corp of {args.users} users generated in {generated:.2f} s")
        print(f"{'connections':>11} {'req/s':>9} {'requests':>9} {'non-2xx':>8} "
              f"{'p50':>8} {'p99':>8}  socket errors")
        results = []
        for connections in args.connections:
            r = run_wrk(url, threads=min(args.threads, connections), connections=connections,
                        duration=args.duration)
            results.append({"connections": connections, **r})
            print(f"{connections:>11} {r['rps']:>9.0f} {r['requests']:>9} {r['non_2xx']:>8} "
                  f"{r['p50']:>8} {r['p99']:>8}  {r['socket_errors']}")
        calls = control.counters()["calls"].get("user/get", 0)
        print(f"emulator counted {calls} user/get calls")
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()

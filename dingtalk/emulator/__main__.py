"""`python -m dingtalk.emulator --host 127.0.0.1 --port 9000 [--fixture F] [--seed N] ...`."""

import argparse
import json
import logging

from .config import EmulatorConfig
from .server import EmulatorServer


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dingtalk.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--fixture", help="JSON file: corps, apps and suites to create")
    parser.add_argument("--seed", type=int, default=0, help="seed of the org generator")
    parser.add_argument("--state-file", help="load at start if present; save on shutdown")
    parser.add_argument("--config", help="JSON file of EmulatorConfig fields")
    parser.add_argument("--app-qps", type=int, help="per app per API QPS (90018), default 20")
    parser.add_argument("--global-qps", type=int, help="per API QPS overall (90002)")
    parser.add_argument("--token-ttl", type=int, help="token lifetime in seconds (7200)")
    parser.add_argument("--no-rate-limits", action="store_true", help="for throughput runs")
    parser.add_argument("--quota", action="append", default=[], metavar="NAME=VALUE",
                        type=_quota, help="a work-notice limit, e.g. daily_cap_isv=50 or "
                        "per_minute_corp=0 (repeatable; names in docs/emulator.md)")
    parser.add_argument("--server", choices=("werkzeug", "keepalive", "gunicorn"),
                        default="keepalive", help="keepalive (default): HTTP/1.1 keep-alive, a "
                        "thread per connection, the fastest; werkzeug: its development server "
                        "(closes every connection); gunicorn: one process, gthread workers")
    parser.add_argument("--threads", type=int, default=32, help="gunicorn worker threads")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def _quota(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), json.loads(value)
    except ValueError:
        return name.strip(), value  # a bare word such as day_mode=rolling


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    config = EmulatorConfig(seed=args.seed)
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            config.update(json.load(fh))
    if args.app_qps is not None:
        config.app_api_qps = args.app_qps
    if args.global_qps is not None:
        config.global_api_qps = args.global_qps
    if args.token_ttl is not None:
        config.token_ttl_s = args.token_ttl
    if args.no_rate_limits:
        config.rate_limits_enabled = False
    if args.quota:
        config.update({"notices": dict(args.quota)})
    return config


def build_server(args: argparse.Namespace) -> EmulatorServer:
    fixture = None
    if args.fixture:
        with open(args.fixture, encoding="utf-8") as fh:
            fixture = json.load(fh)
    return EmulatorServer(build_config(args), args.host, args.port, fixture=fixture,
                          state_file=args.state_file, keepalive=args.server == "keepalive")


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(message)s")
    try:
        server = build_server(args)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        # A bad --config, --fixture, --state-file or --quota: one line, not a traceback.
        raise SystemExit(f"python -m dingtalk.emulator: {type(exc).__name__}: {exc}") from None
    if args.server == "gunicorn":
        from .gunicorn_server import GunicornEmulator

        logging.getLogger("dingtalk.emulator").info(
            "DingTalk emulator on http://%s:%s (gunicorn)", args.host, args.port)
        GunicornEmulator(server.emulator, host=args.host, port=args.port, threads=args.threads,
                         on_exit=server.save_state).run()
        return
    server.serve_forever()


if __name__ == "__main__":
    main()

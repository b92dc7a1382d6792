"""Prometheus metrics that the processes count as things happen (counters and histograms).

Served at /metrics (config/metrics_view.py) with the gauges read from the database at scrape
time. Under gunicorn and Celery several processes count: set PROMETHEUS_MULTIPROC_DIR to an
empty directory (one per host, emptied at each start) in every process's environment and
prometheus_client keeps each process's values in a file there, which /metrics adds up. Without
it (runserver, tests) the values are this process's own.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CALLBACKS = Counter(
    "dingsuite_callbacks_total",
    "DingTalk pushes answered, by owner kind (suite, app), event kind and outcome (accepted, "
    "or the refusal's code)", ["owner", "kind", "outcome"])
CALLBACK_SECONDS = Histogram(
    "dingsuite_callback_seconds", "Time to verify, decrypt, store and answer a push",
    ["owner"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.2, 1.5, 3.0))
TOKEN_FETCHES = Counter(
    "dingsuite_token_fetches_total",
    "Access tokens fetched from DingTalk, by kind (suite, corp, app), suite key (empty for "
    "internal apps) and outcome (ok, or the error's class)", ["kind", "suite", "outcome"])
DINGTALK_CALLS = Counter(
    "dingsuite_dingtalk_calls_total",
    "Calls to DingTalk by endpoint and errcode (0 ok; 'transport' when no answer came)",
    ["endpoint", "errcode"])
DINGTALK_CALL_SECONDS = Histogram(
    "dingsuite_dingtalk_call_seconds", "Latency of calls to DingTalk by endpoint",
    ["endpoint"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
PURGED_ROWS = Counter(
    "dingsuite_purged_rows_total", "Rows the daily retention purge deleted, by kind", ["kind"])

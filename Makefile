# dingsuite developer commands. `make run` and `make test` create or refresh .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python

# Integration tests talk to real PostgreSQL and Redis; these defaults match a developer machine
# with both on localhost (.ci/run starts them if they are down).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/dingsuite
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: venv run test lint bench-client bench-emulator bench-callbacks bench-crypto bench-faults \
	bench-recovery bench-delivery bench-api bench-scaleout bench-directory bench-jsapi emulator clean

# Exact versions from requirements-dev.lock (everything, dev tools included), then dingsuite
# itself, editable, with nothing resolved again: every machine, CI and the image (which uses
# requirements.lock, the same versions without the dev tools) run the same packages.
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# Re-resolve the lock files from pyproject.toml's ranges after editing them. Versions already
# locked stay where they still fit; move them with LOCK_ARGS="--upgrade" (everything) or
# LOCK_ARGS="--upgrade-package celery". requirements.lock is resolved from the dev lock, so the
# two never disagree. Commit both files.
.PHONY: lock
LOCK_FLAGS := --quiet --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: venv
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) $(LOCK_ARGS) \
		--extra dev -o requirements-dev.lock pyproject.toml
	cp requirements-dev.lock requirements.lock
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) \
		-o requirements.lock pyproject.toml

run: venv
	$(PY) -m devserver

test: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

emulator: venv
	$(PY) -m dingtalk.emulator --host 127.0.0.1 --port 9000

# Benchmarks print figures; pass options with BENCH_ARGS, e.g.
#   make bench-callbacks BENCH_ARGS="--mode open --rate 300 --duration 20"
bench-client: venv
	$(PY) bench/client.py $(BENCH_ARGS)

bench-emulator: venv
	$(PY) bench/emulator.py $(BENCH_ARGS)

bench-crypto: venv
	$(PY) bench/crypto.py $(BENCH_ARGS)

bench-faults: venv
	$(PY) bench/faults.py $(BENCH_ARGS)

bench-recovery: venv
	$(PY) bench/recovery.py $(BENCH_ARGS)

bench-callbacks: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bench/callbacks.py $(BENCH_ARGS)

bench-delivery: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bench/delivery.py $(BENCH_ARGS)

# One web process and one worker, then two and four, on one database and Redis (scaleout.py).
bench-scaleout: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bench/scaleout.py $(BENCH_ARGS)

# The REST API under gunicorn: its own database, redis-server and emulator (bench/api.py).
bench-api: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bench/api.py $(BENCH_ARGS)

# The directory mirror of a 5,000-user tenant: full sync and pushed changes (bench/directory.py).
bench-directory: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bench/directory.py $(BENCH_ARGS)

# get_jsapi_ticket fetches per tenant per expiry under 8 processes x 25 threads (bench/jsapi.py).
bench-jsapi: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bench/jsapi.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

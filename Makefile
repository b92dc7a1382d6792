# dingsuite developer commands. `make run` and `make test` create or refresh .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python

# Integration tests talk to real PostgreSQL and Redis; these defaults match a developer machine
# with both on localhost (.ci/run starts them if they are down).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/dingsuite
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: venv run test lint bench-client bench-emulator bench-callbacks bench-crypto bench-faults \
	bench-recovery bench-delivery bench-api emulator clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

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

# The REST API under gunicorn: its own database, redis-server and emulator (bench/api.py).
bench-api: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bench/api.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

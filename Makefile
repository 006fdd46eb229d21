# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install system-deps frontend run test test-fast lint test-upstream bench bench-trending

# Re-installs only when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# What the test suite runs besides Python, from Debian's packages when
# missing: a private redis-server for the multi-process tests, nginx in front
# of them, and chromium for the browser tests (Playwright drives it; no
# browser is downloaded).
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing; fi

# The dashboard's JavaScript and CSS, built into static/dashboard/.
frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

frontend: frontend/node_modules/.package-lock.json
	cd frontend && npm run build

# Daphne's listen backlog is 50 unless its endpoint says otherwise: a burst
# of reconnects (a deploy, a network blip) would see refused connections.
# A laptop's server: DEBUG on (settings.py defaults it off) unless the shell says otherwise.
run: install frontend
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py collectstatic --noinput --verbosity 0
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(PY) -m realtime_project.realtime.server -e tcp:port=$(PORT):interface=127.0.0.1:backlog=1024 realtime_project.asgi:application

# The suite runs on SQLite (everything), then the database-backed tests
# again on PostgreSQL (this machine kind starts it; TEST_DATABASE_URL overrides).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/realtime

test: install system-deps frontend lint
	cd frontend && npm run typecheck && npm test
	$(PY) -m pytest
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -p no:cacheprovider \
		--ignore=tests/e2e --ignore=tests/browser
	$(MAKE) test-upstream

# Daphne's and channels-redis' own test suites (their pinned sdists, from
# PyPI, cached in .cache/upstream/) against this project's server and Redis
# layer; deliberate differences are listed in upstream/*_conftest.py.
test-upstream: install system-deps
	$(PY) upstream/run_suites.py daphne
	$(PY) upstream/channels_redis_suite.py

# The in-process tests alone (no live servers, no browser): a minute or so.
test-fast: install
	$(PY) -m pytest -m "not e2e and not browser"

# ruff's lint and format checks (ruff.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The fan-out benchmark (bench/fanout.py): this server, naive Channels and a
# hand-written asyncio loop at N = 1,000, 5,000, 10,000 clients, embedded and
# Redis; JSON and PNG into docs/benchmarks/, read in docs/PERFORMANCE.md.
# BENCH_ARGS=--quick for a one-minute smoke run. About 20 minutes.
BENCH_ARGS ?=
bench: install system-deps
	$(PY) -m bench.fanout $(BENCH_ARGS)
	$(PY) -m bench.report
	$(PY) -m bench.multiplex $(BENCH_MULTIPLEX_ARGS)
	$(PY) -m bench.restart $(BENCH_RESTART_ARGS)

# One trending recompute timed at 10k, 100k and 1M tweets, on SQLite then on
# PostgreSQL (BENCH_DATABASE_URL); figures in docs/TRENDING.md.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
bench-trending: install
	$(PY) manage.py bench_trending --sizes 10000 100000 1000000
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_trending --sizes 10000 100000 1000000

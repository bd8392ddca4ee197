# Qiyue: `make run` serves the app, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export QIYUE_DATA_DIR ?= $(CURDIR)/var
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test lock run dev rundeps worker test test-sqlite test-postgres sysdeps lint messages bench bench-http clean

# Two locks compiled from pyproject.toml (`make lock`), every file pinned by its hash:
# requirements.lock holds the runtime dependencies (`make run`), requirements-test.lock those plus the
# test extra (`make test`). pip checks hashes for a whole invocation, so the project itself is installed
# apart, editable and without dependencies.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	touch $@

# Recompiles both locks with uv (pinned here) after a change to pyproject.toml's dependencies. Versions
# already in a lock stay; LOCK_FLAGS="--upgrade-package NAME" (or --upgrade) moves them. The test lock is
# constrained by the runtime lock, so both pin the same versions. A test fails while they are stale.
UV_VERSION := 0.13.9
LOCK_FLAGS ?=
LOCK_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --python-version 3.11 --python-platform linux \
  --generate-hashes --custom-compile-command "make lock" $(LOCK_FLAGS)

lock: $(VENV)/.uv-$(UV_VERSION)
	$(LOCK_COMPILE) -o requirements.lock
	$(LOCK_COMPILE) --extra test -c requirements.lock -o requirements-test.lock

$(VENV)/.uv-$(UV_VERSION):
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	touch $@

# The task worker (text extraction, OCR, search indexing, periodic jobs) runs in the background beside
# the server and stops with it: in its own session (setsid), so Ctrl+C reaches only the server and the
# worker gets one SIGTERM, on which it finishes the task in hand before it exits. It runs quietly
# (--verbosity 0: no line per task; failures are still logged), so the logins stay on the screen
# while it indexes the demo data.
# Served as in production: DEBUG off (the friendly 403/404/500 pages, no technical error pages).
run: install rundeps
	$(BIN)/qiyue migrate --noinput
	$(BIN)/qiyue demo --if-empty --url http://$(HOST):$(PORT)/
	$$(command -v setsid) $(BIN)/qiyue worker --verbosity 0 & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	  QIYUE_DEBUG=0 $(BIN)/qiyue serve --host $(HOST) --port $(PORT)

# For development: DEBUG on (Django's technical error pages) and Django's server, which reloads on a change.
dev: install rundeps
	$(BIN)/qiyue migrate --noinput
	$(BIN)/qiyue demo --if-empty --url http://$(HOST):$(PORT)/
	$$(command -v setsid) $(BIN)/qiyue worker --verbosity 0 & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	  QIYUE_DEBUG=1 $(BIN)/qiyue runserver $(HOST):$(PORT)

# A worker alone, e.g. a second one beside `make run` or on another machine sharing the database.
worker: install
	$(BIN)/qiyue worker

# System packages. The worker's OCR needs Tesseract with Chinese; the tests also need Debian's Chromium
# (browser tests), a CJK font (OCR test images) and gettext (catalogues). Installed with apt-get when
# missing and we are root; otherwise `make run` warns (OCR is then unavailable) and `make test` stops.
RUN_PACKAGES := tesseract-ocr tesseract-ocr-chi-sim
TEST_PACKAGES := $(RUN_PACKAGES) fonts-noto-cjk chromium gettext
APT_INSTALL = apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
can_apt = [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null

rundeps:
	@if ! tesseract --list-langs 2>/dev/null | grep -qx chi_sim; then \
	  if $(can_apt); then $(APT_INSTALL) $(RUN_PACKAGES) >/dev/null; \
	  else echo "Warning: OCR needs: apt-get install $(RUN_PACKAGES)"; fi; \
	fi

sysdeps:
	@if ! command -v chromium >/dev/null || ! command -v msgfmt >/dev/null \
	    || ! tesseract --list-langs 2>/dev/null | grep -qx chi_sim || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  if $(can_apt); then $(APT_INSTALL) $(TEST_PACKAGES) >/dev/null; \
	  else echo "Install the system packages: apt-get install $(TEST_PACKAGES)"; exit 1; fi; \
	fi

# ruff, and bandit over qiyue/ and config/ (settings and waivers: .bandit). pip-audit runs with the suite
# (qiyue/ops/tests/test_security_tools.py), skipped with a message where the vulnerability data is unreachable.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/bandit --ini .bandit --severity-level medium --confidence-level medium --quiet

# The whole suite: lint, SQLite always; PostgreSQL too under CI=true or when DATABASE_URL is set.
test: install-test sysdeps lint test-sqlite
	@if [ "$${CI:-}" = "true" ] || [ -n "$${DATABASE_URL:-}" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-sqlite: install-test
	env -u DATABASE_URL QIYUE_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -p no:cacheprovider --durations=15

test-postgres: install-test
	@url="$${DATABASE_URL:-$(PG_URL)}"; \
	$(BIN)/python -c "import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=5).close()" "$$url" \
	  || { echo "PostgreSQL is not reachable at $$url: the PostgreSQL run cannot be skipped."; exit 1; }; \
	DATABASE_URL="$$url" QIYUE_DB_CONN_MAX_AGE=0 QIYUE_TEST_DATABASE_NAME=qiyue_test_$$$$ QIYUE_DATA_DIR=$$(mktemp -d) \
	  $(BIN)/pytest -p no:cacheprovider --create-db --durations=15

messages: install sysdeps
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=var --ignore=bench \
	  --ignore='*/tests/*' --ignore='qiyue/static/*'
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

# `make bench`: in-process tables, then the recall check (fails the run on a count that differs from
# SQL LIKE) and the HTTP figures against `qiyue serve`; BENCH_* variables: see docs/benchmarks.md.
bench: install-test
	$(BIN)/python bench/run.py

# The recall check and the HTTP figures alone.
bench-http: install-test
	$(BIN)/python bench/http_run.py

clean:
	rm -rf $(VENV) *.egg-info

# Carnet — everything a fresh machine needs, from two commands: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
export FLASK_APP := app
# Passkeys are bound to this origin: always localhost (never 127.0.0.1), on the chosen port.
ORIGIN := http://localhost:$(PORT)

.PHONY: lint run install install-test migrate seed reset-demo translations messages test test-db bench bench-deps chromium system-deps clean vendor vendor-test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# argon2-cffi-bindings is built here from its source (PyPI's sdist, with the C compiler) with AVX2
# where the processor has it: its wheel is built for any x86-64 (SSE2), and the password check,
# the costliest request of a morning, then takes a third more CPU (docs/performance.md, 87).
# Elsewhere, or if the build fails, the wheel stays: the same function, slower.
AVX2 := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo yes)
ARGON2_BINDINGS = "argon2-cffi-bindings==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("argon2-cffi-bindings"))')"

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(if $(AVX2),CFLAGS="-O3 -mavx2" $(BIN)/pip install --quiet --no-cache-dir --force-reinstall --no-deps \
	  --no-binary argon2-cffi-bindings $(ARGON2_BINDINGS) || echo "argon2-cffi-bindings: kept the wheel (no AVX2 build)")
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: system-deps $(VENV)/.installed translations

# WeasyPrint needs Pango; present on most machines, installed from Debian when missing.
system-deps:
	@if ! ldconfig -p | grep -q libpango-1.0; then \
	  echo "Installing Pango for PDF rendering (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null; \
	fi

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations

migrate: install
	$(BIN)/alembic upgrade head

seed: migrate
	CARNET_DEMO=1 CARNET_WEBAUTHN_ORIGIN=$(ORIGIN) $(BIN)/flask demo seed

# Start the demo again from scratch: the database, its files, keys and mails in instance/ go.
reset-demo: install
	rm -rf instance/carnet.db instance/carnet.db-wal instance/carnet.db-shm instance/blobs instance/outbox
	$(MAKE) seed PORT=$(PORT)

run: seed
	@echo ""
	@echo "  Carnet is starting on $(ORIGIN)"
	@echo "  Log in as camille.martin@example.fr / carnet-demo-2026"
	@echo "  (one-time code: $(ORIGIN)/demo/courriels)"
	@echo "  Stop with Ctrl+C; start the demo again from scratch with: make reset-demo"
	@echo ""
	CARNET_DEMO=1 CARNET_WEBAUTHN_ORIGIN=$(ORIGIN) \
	  $(BIN)/python -m gunicorn --workers $(WORKERS) --bind localhost:$(PORT) --access-logfile - 'app:create_app()'

# Debian's Chromium for the browser tests (never a browser downloaded by a test tool).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Chromium from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

install-test: install $(VENV)/.installed-test chromium

# Test processes (pytest-xdist): each has its own app, SQLite file and instance folder, and its
# own PostgreSQL database (<name>_gw0, ...) under TEST_DATABASE_URL; one module stays on one
# process. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile)

# The whole suite; exit code 5 (nothing collected) is a failure, not a pass.
test: install-test
	$(PYTEST); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

# Lint and format check (ruff, from the test extras).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The database-facing suite (no browser), e.g. against PostgreSQL with TEST_DATABASE_URL.
test-db: install-test
	$(PYTEST) -m "not browser"; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

# wrk from Debian drives the HTTP load (a Python load generator is used where it is missing).
bench-deps:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || true

bench: install bench-deps
	$(BIN)/python -m benchmarks.run

# After changing visible strings: refresh the catalogue, then translate the new entries.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --ignore-dirs='.* _* node_modules .venv tests translations' .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l fr
	$(BIN)/python translations/check.py

vendor:
	bash static/vendor/fetch.sh

# axe-core for the browser tests' accessibility checks (tests/browser/vendor/, from npm).
vendor-test:
	bash tests/browser/vendor/fetch.sh

clean:
	rm -rf $(VENV) .pytest_cache

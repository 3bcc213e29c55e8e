# OpsConsole: `make run` and `make test` work on a fresh machine with no servers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint format bench e2e migrate clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

run: venv
	$(BIN)/python manage.py tighten_var_permissions
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py bootstrap_admin
	$(BIN)/python scripts/run_all.py

# Parallel by default (pytest-xdist, one worker per core): `make test PYTEST_WORKERS=0` runs
# the suite serially in one process. worksteal: idle workers take queued tests from busy
# ones, so a few long tests (real workers, browsers) do not leave one core idle at the end.
# The browser tests (marker e2e, ~40 s of Chromium) run in `make e2e`, which CI runs too;
# a -m in PYTEST_ARGS replaces this one (pytest keeps the last).
PYTEST_WORKERS ?= auto
test: venv
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal -m "not e2e" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

e2e: venv
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal -m e2e $(PYTEST_ARGS)

clean:
	rm -rf var/test-db.sqlite3* var/test-broker var/test-workers .pytest_cache .mypy_cache

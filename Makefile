# VetPMS: two commands for a fresh machine.
#
#   make demo    virtual environment, install, migrate, demo data, serve on http://127.0.0.1:8000
#                (make demo PORT=8101 serves on another port; the links in its emails follow)
#   make test    the whole test suite (DATABASE_URL if set, else SQLite), browser journeys included
#
# Handy: make lint | make bench | make screenshot | make demo RESET=1 | make test PYTEST_ARGS="-x tests/clients"

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The address in the links of the emails the demo sends (unsubscribe): the app being served, unless set.
SITE_URL ?= http://$(HOST):$(PORT)
SEED ?= 2026
PYTEST_ARGS ?=
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help demo serve test lint bench screenshot venv venv-dev

help:
	@sed -n '1,8p' Makefile | sed 's/^# \{0,1\}//'

# --- environments ---------------------------------------------------------------------------------------------
# A stamp per requirements file: pip runs again only when the lock file changes (or the venv is new).
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "VetPMS needs Python 3.11 (found $$($(PYTHON) --version)); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed-runtime
venv-dev: $(VENV)/.installed-dev

# --- make demo ------------------------------------------------------------------------------------------------
demo: export DEBUG = 1
demo: $(VENV)/.installed-runtime
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --seed $(SEED) $(if $(RESET),--reset)
	@$(MAKE) --no-print-directory serve

# The web server in the foreground, the django-q2 worker (reminders, emails) beside it; Ctrl+C stops both.
serve: export DEBUG = 1
serve: $(VENV)/.installed-runtime
	@echo "VetPMS demo: http://$(HOST):$(PORT)/  (sign in with a demo login above; Ctrl+C stops)"
	@export SITE_URL="$(SITE_URL)"; $(PY) manage.py qcluster & qpid=$$!; \
		trap 'kill $$qpid 2>/dev/null; wait $$qpid 2>/dev/null' EXIT; \
		$(PY) manage.py runserver $(HOST):$(PORT)

# --- make test ------------------------------------------------------------------------------------------------
test: $(VENV)/.installed-dev
	@bash .ci/system-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# --- quality and speed ----------------------------------------------------------------------------------------
lint: export VETPMS_TESTING = 1
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-dev
	$(PY) -m bench $(BENCH_ARGS)

screenshot: $(VENV)/.installed-dev
	@bash .ci/system-deps
	$(PY) docs/make_screenshot.py

# Two commands do everything: `make run` (serve the demo site) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKER_QUEUES := default events reports

.PHONY: install messages run serve worker cron test lint format migrate demo bench load-test fault clean

# pip says nothing but errors (-qq); `make install PIP_QUIET=` shows its progress.
PIP_QUIET ?= -qq

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing the project and its dependencies into $(VENV) ..."
	@$(PY) -m pip install $(PIP_QUIET) --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install $(PIP_QUIET) --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) messages

## Compile the translations (locale/ja: the admin and the site in Japanese) with Debian's
## gettext when a .po is newer than its .mo. Without msgfmt the committed .mo files stay.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
messages: $(MO_FILES)

locale/%.mo: locale/%.po | $(STAMP)
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages --ignore=.venv --ignore=var --verbosity 0; \
	elif [ -f $@ ]; then \
		echo "msgfmt (Debian's gettext) is missing: using the committed $@."; \
	else \
		echo "msgfmt (Debian's gettext) is missing: cannot build $@." >&2; exit 1; \
	fi

## Apply the migrations and collect static files, quietly (`manage.py migrate` lists each one).
migrate: install
	@$(PY) manage.py migrate --noinput --verbosity 0
	@$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Database migrated, static files collected."

demo: migrate
	@$(PY) manage.py load_demo

## Create the venv, install, migrate, load the demo site and serve it (with a worker when
## REDIS_URL is set). Ctrl-C stops everything.
run: demo
	@echo ""
	@echo "  Site:    http://$(HOST):$(PORT)/   (members' area: /members/, demo members above)"
	@echo "  Admin:   http://$(HOST):$(PORT)/admin/   user admin, password $${DEMO_ADMIN_PASSWORD:-pawprint-admin}"
	@echo "  Another address: make run PORT=8080 HOST=0.0.0.0.   Stop: Ctrl-C"
	@echo ""
	@if [ -n "$$REDIS_URL" ]; then \
		echo "  REDIS_URL is set: starting an RQ worker with the scheduler, and the periodic jobs"; \
		nice -n 10 $(PY) manage.py rqworker $(WORKER_QUEUES) --with-scheduler --job-class config.rq_job.Job & \
		WORKER=$$!; \
		$(PY) manage.py rqcron personalization.scheduling & \
		CRON=$$!; trap "kill $$WORKER $$CRON 2>/dev/null" EXIT INT TERM; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	else \
		echo "  No REDIS_URL: jobs run in the web process after each response; periodic jobs run"; \
		echo "  on their schedule beside it (manage.py run_periodic_jobs --loop)"; \
		$(PY) manage.py run_periodic_jobs --loop --verbosity 0 & \
		PERIODIC=$$!; trap "kill $$PERIODIC 2>/dev/null; wait $$PERIODIC" EXIT INT TERM; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	fi

## An RQ worker for all queues (needs REDIS_URL). It waits for Redis and reconnects when Redis
## restarts (config.rq_worker.Worker, the RQ WORKER_CLASS setting); in production supervise it
## anyway (deploy/systemd/cms-worker@.service).
worker: install
	$(PY) manage.py rqworker $(WORKER_QUEUES) --with-scheduler --job-class config.rq_job.Job

## The periodic jobs of settings.PERIODIC_JOBS (RQ's cron; run one per deployment; needs REDIS_URL).
cron: install
	$(PY) manage.py rqcron personalization.scheduling

## Install what the tests need and run them all, on every core (`make test TEST_WORKERS=0`:
## in one process). Tests that commit to the database (transactional, live server; marked
## `serial` by tests/conftest.py) run afterwards in one process, as they would last in one run.
TEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist load -m "not serial" $(PYTEST_ARGS)
	$(PY) -m pytest -m serial $(PYTEST_ARGS)

## Run every benchmark in bench/ and rewrite docs/benchmarks.md with the figures.
bench: install
	$(PY) bench/segments.py --write docs/benchmarks.md
	$(PY) bench/ingest.py --write docs/benchmarks.md
	$(PY) bench/pages.py --write docs/benchmarks.md
	$(PY) bench/api.py --write docs/benchmarks.md
	$(PY) bench/experiment_results.py --write docs/benchmarks.md
	$(PY) bench/aa_simulation.py --write docs/benchmarks.md
	$(PY) bench/load/run.py --seconds 60 --write docs/benchmarks.md
	$(PY) bench/fault.py --write docs/benchmarks.md
	$(PY) bench/lighthouse.py --write docs/benchmarks.md

## Only the load test: gunicorn + PostgreSQL + Redis + a worker under locust for 60 s.
load-test: install
	$(PY) bench/load/run.py --seconds 60 --write docs/benchmarks.md

## Only the fault run: load while Redis is killed for 15 s and a worker is killed (bench/fault.py).
fault: install
	$(PY) bench/fault.py --write docs/benchmarks.md

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var db.sqlite3 .pytest_cache

# The shop's commands. Only Python 3.11 is needed: everything else comes from PyPI.
#   make run     the whole shop: embedded PostgreSQL + Redis, web, Celery worker and beat, demo data
#   make test    ruff, import layers, mypy, then the whole test suite (browser journeys included)
#                on PYTEST_WORKERS pytest-xdist workers (2; PYTEST_WORKERS=0 runs it in one process)
#   make bench   throughput and latency of the pages against a bare Django view, then every
#                dashboard panel over a chain-sized history (devtools/benchmark_dashboards.py)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Each worker has its own test database and Redis database (o2o/settings/workers.py). Tests
# are handed out in the collection order (tests/conftest.py: Django's, the long ones first
# within it), two at a time, so the long ones spread over the workers.
PYTEST_WORKERS ?= 2

.PHONY: run test lint bench messages demo shell clean

$(VENV)/.installed-run: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e '.[embedded]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e '.[embedded,test]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(PY) -m o2o.devstack run

lint: $(VENV)/.installed-test
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy

test: $(VENV)/.installed-test lint
	@$(PY) -m o2o.browser ensure
	DJANGO_SETTINGS_MODULE=o2o.settings.test $(PY) -m o2o.devstack exec -- $(PY) -m pytest --durations=20 -n $(PYTEST_WORKERS) --dist load --maxschedchunk 2 $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(PY) -m o2o.devstack exec -- $(PY) -m devtools.benchmark $(BENCH_ARGS)
	$(PY) -m o2o.devstack exec -- $(PY) -m devtools.benchmark_dashboards $(DASHBOARD_BENCH_ARGS)

demo: $(VENV)/.installed-run
	$(PY) -m o2o.devstack exec -- $(PY) manage.py load_demo

messages: $(VENV)/.installed-test
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete -i '.venv/*' -i 'var/*' -i 'tests/*' -i 'test-artifacts/*'
	$(PY) manage.py compilemessages -l zh_Hans -i .venv

shell: $(VENV)/.installed-run
	$(PY) -m o2o.devstack exec -- $(PY) manage.py shell

clean:
	rm -rf $(VENV) test-artifacts

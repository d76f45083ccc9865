# The shop's commands. Only Python 3.11 is needed: everything else comes from PyPI.
#   make run     the whole shop: embedded PostgreSQL + Redis, web, Celery worker and beat, demo data
#   make test    ruff, import layers, mypy, then the whole test suite (browser journeys included)
#   make bench   throughput and latency of the pages against a bare Django view, then every
#                dashboard panel over a chain-sized history (devtools/benchmark_dashboards.py)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

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
	DJANGO_SETTINGS_MODULE=o2o.settings.test $(PY) -m o2o.devstack exec -- $(PY) -m pytest --durations=20 $(PYTEST_ARGS)

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

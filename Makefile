# The two set-up commands: `make demo` runs the example pipeline, `make test` runs the whole suite.
# Everything is installed into project-local venvs with uv (pip's resolver backtracks for minutes on
# this dependency set), pinned by a constraints file per tested Airflow version.

PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
FLOOR_AIRFLOW_VERSION ?= 3.0.6
VENV ?= .venv
FLOOR_VENV ?= .venv-floor
# Airflow 3.0/3.1 build the connection form from hook methods, and only with the FAB UI installed:
# the floor suite installs it so that path is tested too.
FLOOR_EXTRA_PACKAGES = apache-airflow-providers-fab
CHECKED_PATHS = provider tests dags_examples scripts bench
comma := ,

# $(call install,venv,airflow version,extras,more packages)
define install
	@test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	@test -x $(1)/bin/uv || $(1)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python --compile-bytecode \
		--constraint constraints/airflow-$(2).txt \
		"apache-airflow==$(2)" -e ".[$(3)]" $(4)
	@touch $(1)/.installed
endef

.PHONY: help install install-floor install-deployment install-ui test test-floor test-deployment test-ui test-scheduler test-examples-standalone lint typecheck unit demo bench freeze-constraints clean

help:
	@echo "make demo        run the example pipeline (local emulator, or tengr.ai when TENGR_API_KEY is set; TENGR_API_VERSION=v2 for API V2)"
	@echo "make test        lint, type-check and run the whole suite on Airflow $(AIRFLOW_VERSION)"
	@echo "make test-floor  run the suite on Airflow $(FLOOR_AIRFLOW_VERSION), the oldest supported"
	@echo "make test-deployment  CeleryExecutor, Redis, PostgreSQL, two triggerers, two workers, S3 (about 8 min)"
	@echo "make test-ui     Airflow's web UI in headless Chromium: the connection form, Test, links, review"
	@echo "make test-scheduler  quick artworks under a real scheduler (airflow standalone), no retries (about 4 min)"
	@echo "make test-examples-standalone  every example DAG under airflow standalone, no logical date"

$(VENV)/.installed: pyproject.toml constraints/airflow-$(AIRFLOW_VERSION).txt
	$(call install,$(VENV),$(AIRFLOW_VERSION),dev)

$(FLOOR_VENV)/.installed: pyproject.toml constraints/airflow-$(FLOOR_AIRFLOW_VERSION).txt
	$(call install,$(FLOOR_VENV),$(FLOOR_AIRFLOW_VERSION),tests,$(FLOOR_EXTRA_PACKAGES))

$(VENV)/.installed-deployment: $(VENV)/.installed
	bash tests/deployment/install-services.sh
	$(call install,$(VENV),$(AIRFLOW_VERSION),dev$(comma)deployment)
	@touch $@

$(VENV)/.installed-ui: $(VENV)/.installed
	bash tests/ui/install-browser.sh
	$(call install,$(VENV),$(AIRFLOW_VERSION),dev$(comma)ui)
	@touch $@

install: $(VENV)/.installed
install-ui: $(VENV)/.installed-ui
install-floor: $(FLOOR_VENV)/.installed
install-deployment: $(VENV)/.installed-deployment

lint: install
	$(VENV)/bin/ruff check $(CHECKED_PATHS)
	$(VENV)/bin/ruff format --check $(CHECKED_PATHS)

typecheck: install
	$(VENV)/bin/mypy

# The unit tests only (mocked HTTP, a few seconds); `make test` runs the whole suite.
unit: install
	$(VENV)/bin/pytest tests/unit

# The 15 slowest tests are listed at the end, so a log shows where the suite's 15-minute budget goes.
test: lint typecheck
	$(VENV)/bin/pytest --cov --cov-report=term --durations=15

# The fault-injection suite (marker `faults`) runs on the main target only: it tests the provider's own
# retry and storage code, which does not change with Airflow, and costs 11 minutes on 3.0.6's slower dag.test().
test-floor: install-floor
	$(FLOOR_VENV)/bin/pytest -p no:cacheprovider -m "not faults"

# A production-shaped deployment on loopback (tests/deployment): the services are installed from Debian's
# packages when missing, started in temporary folders, health-checked and stopped at the end.
test-deployment: install-deployment
	$(VENV)/bin/pytest -p no:cacheprovider -m deployment tests/deployment -s

# Airflow's web UI as a person uses it (tests/ui): one `airflow standalone` and the emulator, driven
# through Debian's Chromium by Playwright; screenshots land in docs/img/. The connection form also runs
# on the floor's Airflow (its own standalone, from the floor venv): 3.0 and 3.1 build it another way.
test-ui: install-ui install-floor
	TENGR_UI_FLOOR_BIN=$(FLOOR_VENV)/bin $(VENV)/bin/pytest -p no:cacheprovider -m ui tests/ui

# A real scheduler (tests/scheduler): `airflow standalone` and the emulator, quick artworks waited on
# deferred and by reschedule-mode sensors with no retries (40 each here; the issue's measure is
# TENGR_RACE_TASKS=100 TENGR_RACE_RUNS=5). `make test-examples-standalone` runs every example DAG
# there, triggered without a logical date (TENGR_EXAMPLE_RUNS=10 repeats).
TENGR_RACE_TASKS ?= 40
test-scheduler: install
	TENGR_RACE_TASKS=$(TENGR_RACE_TASKS) $(VENV)/bin/pytest -p no:cacheprovider -m scheduler \
		tests/scheduler/test_scheduler_race.py tests/scheduler/test_real_scheduler.py -s

test-examples-standalone: install
	$(VENV)/bin/pytest -p no:cacheprovider -m scheduler tests/scheduler/test_examples_under_a_real_scheduler.py -s

demo: install
	$(VENV)/bin/python scripts/demo.py

# The benchmarks behind docs/benchmarks.md (about 15 minutes on 2 cores; not part of `make test`).
bench: install
	$(VENV)/bin/python -m bench.run_all

CONSTRAINTS_HEADER_1 = \# A freeze of a green venv (make freeze-constraints AIRFLOW_VERSION=...). aiohttp is held below 3.14:
CONSTRAINTS_HEADER_2 = \# aioresponses 0.7.9, the async HTTP mock of the unit tests, cannot build aiohttp 3.14 responses.
CONSTRAINTS_HEADER_3 = \# celery is held below 5.7: apache-airflow-providers-celery 3.26 imports a name 5.7 removed.
# An old Airflow breaks at run time on today's libraries (fastapi, universal-pathlib, ...), so its set is
# resolved as of its release date, the way its own constraints were; common-compat is the exception we need.
FREEZE_FLAGS_3.0.6 = --exclude-newer 2025-09-15 \
	--exclude-newer-package apache-airflow-providers-common-compat=2026-12-01

# Refresh a constraints file from a fresh, unconstrained install (then run the suite before committing).
freeze-constraints:
	rm -rf /tmp/tengr-freeze && $(PYTHON) -m venv /tmp/tengr-freeze
	/tmp/tengr-freeze/bin/python -m pip install --quiet uv
	/tmp/tengr-freeze/bin/uv pip install --quiet --python /tmp/tengr-freeze/bin/python $(FREEZE_FLAGS_$(AIRFLOW_VERSION)) \
		"apache-airflow==$(AIRFLOW_VERSION)" "aiohttp<3.14" "celery<5.7" \
		-e ".[dev$(if $(filter $(FLOOR_AIRFLOW_VERSION),$(AIRFLOW_VERSION)),,$(comma)deployment)]" $(if $(filter $(FLOOR_AIRFLOW_VERSION),$(AIRFLOW_VERSION)),$(FLOOR_EXTRA_PACKAGES))
	printf '%s\n' "$(CONSTRAINTS_HEADER_1)" "$(CONSTRAINTS_HEADER_2)" "$(CONSTRAINTS_HEADER_3)" > constraints/airflow-$(AIRFLOW_VERSION).txt
	/tmp/tengr-freeze/bin/uv pip freeze --python /tmp/tengr-freeze/bin/python --exclude-editable \
		>> constraints/airflow-$(AIRFLOW_VERSION).txt

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .pytest_cache .mypy_cache .ruff_cache .coverage

# skewless: `make demo` runs the whole pipeline on embedded defaults, `make test` the suite.
# Both set up what is missing first: a virtualenv with pinned packages and the Delta jars.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
JARS_DIR := $(CURDIR)/.cache/jars
export SKEWLESS_JARS_DIR ?= $(JARS_DIR)

.PHONY: setup demo test lint typecheck check airflow clean help cluster-demo

help:
	@echo "make demo      generate demo data, materialize, validate, sync and query every view"
	@echo "make cluster-demo  the same demo on a local Spark standalone cluster"
	@echo "make test      run the whole test suite (real Spark, Delta, redis-server, Airflow)"
	@echo "make lint      ruff + mypy"
	@echo "make airflow   start Airflow standalone with the skewless DAGs"

CLASS_ARCHIVE_STAMP := $(CURDIR)/.cache/jvm/.built

setup: $(VENV)/.installed $(JARS_DIR)/.fetched $(CLASS_ARCHIVE_STAMP)

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

$(JARS_DIR)/.fetched: $(VENV)/.installed
	$(BIN)/python -m feature_jobs.jars $(JARS_DIR)
	touch $@

# The driver JVM's class-data-sharing archive: a warm start for every command. Optional:
# without it (another JVM, a failed build) jobs start as usual, a few seconds slower.
$(CLASS_ARCHIVE_STAMP): $(JARS_DIR)/.fetched
	$(BIN)/python -m feature_jobs.spark.class_archive --jars-dir $(JARS_DIR) \
		|| echo "class archive not built; jobs will start without it"
	mkdir -p $(dir $@) && touch $@

demo: setup
	$(BIN)/python -m feature_jobs demo $(DEMO_ARGS)

# The same demo on a real Spark standalone cluster (master + worker on 127.0.0.1).
cluster-demo: setup
	$(BIN)/python scripts/cluster_demo.py $(CLUSTER_DEMO_ARGS)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

airflow: setup
	$(BIN)/python scripts/airflow_local.py $(AIRFLOW_ARGS)

clean:
	rm -rf data .pytest_cache .mypy_cache .ruff_cache

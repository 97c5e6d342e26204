# The platform's interface: every entry point a newcomer needs is a target here.
# Everything runs from the project's own virtualenv (.venv) and keeps its state in .local/.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
SERVICES := $(PY) -m devstack.services

.DEFAULT_GOAL := help
.PHONY: help setup services-up services-down services-status airflow mlflow settings \
        seed demo doc-pictures test lint bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: ## one-time install: Java check, .venv, pinned Python dependencies
	bash bin/setup

services-up: ## start (or reuse) Postgres, S3, Kafka, HDFS (NameNode + DataNode), Redis, MLflow; apply migrations
	$(SERVICES) up

services-down: ## stop the services this project started (never a pre-existing one)
	$(SERVICES) down

services-status: ## which services answer, and who started them
	$(SERVICES) status

settings: services-up ## load airflow_settings.yaml (connections, pools, variables) into local Airflow
	bin/airflow-settings

airflow: settings ## local Airflow (api-server, scheduler, dag-processor, triggerer) with the UI on :8080
	bin/airflow-standalone

mlflow: services-up ## the MLflow UI (the local tracking server started by services-up)
	@$(SERVICES) url mlflow

seed: services-up ## synthetic portfolio into Postgres core, Kafka, S3 bureau drops, HDFS archive (SEED_ARGS=...)
	$(PY) -m devstack.seed $(SEED_ARGS)

demo: services-up ## the whole pipeline on embedded defaults
	$(PY) -m devstack.demo

doc-pictures: services-up ## screenshots of the last demo's UIs into docs/pictures/ (needs Debian's chromium)
	$(PY) -m devstack.doc_pictures $(PICTURES_ARGS)

test: ## the full test suite (starts the services it needs, stops those it started)
	$(PY) -m pytest $(PYTEST_ARGS)

lock: ## re-pin constraints.txt from the current .venv after changing requirements*.txt
	(echo "# Lock of every package in the environment, made by 'make lock' (pip freeze); installs use it as -c."; \
	 $(VENV)/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/') > constraints.txt

lint: ## ruff, bandit, secret scan, Dockerfile lint, compose schema: any finding fails
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit --quiet --configfile pyproject.toml --recursive --severity-level medium dags plugins include devstack bench
	git ls-files -z | xargs -0 $(VENV)/bin/detect-secrets-hook --baseline .secrets.baseline
	$(VENV)/bin/hadolint docker/*/Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker/docker-compose.yaml

bench: ## every benchmark, one table in bench/results/latest.md
	$(PY) -m bench

clean: services-down ## stop services and delete all local state (.local/)
	rm -rf .local

# drillbook: the two commands a new user runs are `make drill` and `make test` (see README).
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= ci
REPORTS ?= reports

.PHONY: bootstrap bootstrap-k8s drill test lint unit bench bench-k8s clean

bootstrap:
	@bash .ci/bootstrap

bootstrap-k8s:
	@bash .ci/bootstrap --k8s

## the main job: the default drill suite on the Docker lab, writing a report under reports/
drill: bootstrap
	$(BIN)/drillbook run --env docker --profile $(PROFILE) --report $(REPORTS)

## the whole test command: lint, types, layering, then every test (Docker ones included)
test: bootstrap-k8s lint
	$(BIN)/pytest -q --hypothesis-profile=$(PROFILE)

lint:
	$(BIN)/ruff check src tests drills bench fixtures conftest.py
	$(BIN)/ruff format --check src tests drills bench fixtures conftest.py
	$(BIN)/mypy
	$(BIN)/lint-imports

unit:
	$(BIN)/pytest -q -m "not docker"

## every benchmark, one table, reports/bench/<date>-<commit>.json (BENCH_ARGS=--quick: one sample each)
bench: bootstrap-k8s
	$(BIN)/python bench/all.py $(BENCH_ARGS)

bench-k8s: bootstrap-k8s
	$(BIN)/python bench/k8s_controlplane.py
	$(BIN)/python bench/k8s_drills.py

clean:
	$(BIN)/drillbook lab clean

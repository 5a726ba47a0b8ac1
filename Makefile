# drillbook: the two commands a new user runs are `make drill` and `make test` (see README).
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= ci
REPORTS ?= reports
# test workers (pytest-xdist, whole files per worker: their labs are shared within a file);
# 3 on 2 cores: the tests mostly wait (measured: 12.3 min against 17.7 with 2, README)
WORKERS ?= 3

.PHONY: bootstrap bootstrap-k8s bootstrap-test bootstrap-reports drill test test-real-nodes lint unit bench bench-k8s clean allure trends runbook-check

bootstrap:
	@bash .ci/bootstrap

bootstrap-k8s:
	@bash .ci/bootstrap --k8s

# what the test command needs: the control plane and the report tools (Chromium, Allure)
bootstrap-test:
	@bash .ci/bootstrap --k8s --report-tools

bootstrap-reports:
	@bash .ci/bootstrap --report-tools

## the main job: the default drill suite on the Docker lab, writing a report under reports/
drill: bootstrap
	$(BIN)/drillbook run --env docker --profile $(PROFILE) --report $(REPORTS)

## the whole test command: lint, types, layering, then every test (Docker and Kubernetes ones
## included), each at its ci size; PROFILE=nightly widens Hypothesis examples, the fault
## schedules and the drills' profile. Prints its slowest tests and wall time (the budget check).
test: bootstrap-test lint
	$(BIN)/pytest -q --hypothesis-profile=$(PROFILE) --drill-profile=$(PROFILE) \
		-n $(WORKERS) --dist loadfile

## the real-node Kubernetes tier alone (also part of `make test`): the stack on real nodes
test-real-nodes: bootstrap-k8s
	$(BIN)/pytest -q -m real_nodes tests/kubernetes/test_real_nodes.py

lint:
	$(BIN)/ruff check src tests drills bench fixtures conftest.py
	$(BIN)/ruff format --check src tests drills bench fixtures conftest.py
	$(BIN)/mypy
	$(BIN)/lint-imports

## every command and query of the runbook checked on a Docker lab; fails only on new findings
runbook-check: bootstrap
	$(BIN)/drillbook runbook check --baseline fixtures/runbook-baseline.json

unit:
	$(BIN)/pytest -q -m "not docker"

## every benchmark, one table, reports/bench/<date>-<commit>.json (BENCH_ARGS=--quick: one sample each)
bench: bootstrap-k8s
	$(BIN)/python bench/all.py $(BENCH_ARGS)
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/runbook_check.py --skip-kubernetes
	$(BIN)/python bench/gameday_rehearsal.py

bench-k8s: bootstrap-k8s
	$(BIN)/python bench/k8s_controlplane.py
	$(BIN)/python bench/k8s_drills.py

clean:
	$(BIN)/drillbook lab clean

## a run's allure-results through the real Allure CLI: make allure RUN=reports/<run-id>
allure: bootstrap-reports
	@test -n "$(RUN)" || { echo "usage: make allure RUN=reports/<run-id>" >&2; exit 2; }
	$(BIN)/drillbook report allure $(RUN)

## MTTD and MTTR per drill across the runs in $(REPORTS)/history.jsonl; fails on a regression
trends:
	$(BIN)/drillbook report trends --history $(REPORTS)/history.jsonl --fail-on-regression

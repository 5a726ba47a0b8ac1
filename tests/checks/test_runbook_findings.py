"""The offline checks on the project's copy of the runbook: every finding asserted with its
line, and copies of the runbook with one thing broken each producing the matching finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.checks import Finding, RunbookDoc, offline_checks

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "fixtures" / "operational-runbooks.md"
TEXT = RUNBOOK.read_text()

# (line, code, subject): each a real defect of the runbook (or a gap of its drills), found
# without a lab; the SQL and binary findings are in test_sql_lab.py, the live ones in
# test_live_kubectl.py
EXPECTED = {
    (0, "coverage.rule-without-section", "SlowQueries"),
    (216, "kubectl.no-namespace", "Secret"),  # create secret | apply: lands in `default`
    (316, "commands.never-ends", "logs -f"),
    (
        331,
        "coverage.procedure-without-drill",
        "Service Recovery Procedures / Backend Service Recovery / Complete Service Restart",
    ),
    (344, "commands.never-ends", "logs -f"),
    # 364, Database Recovery / Minor Issues Recovery: covered by postgres-killed (both backends)
    (389, "contract.backup-never-written", "latest-backup"),
    (401, "coverage.budget-borrowed", "backend-cpu-pressure"),
    (409, "kubectl.unresolvable-placeholder", "prometheus-pod"),
    (424, "contract.unknown-variable", "NODE_OPTIONS"),
    (430, "coverage.budget-borrowed", "backend-memory-pressure"),
    (
        432,
        "coverage.procedure-without-drill",
        "Performance Troubleshooting / High Memory Usage / Investigation",
    ),
    (451, "contract.unknown-variable", "NODE_OPTIONS"),
    (460, "coverage.budget-borrowed", "lock-contention"),
    (
        462,
        "coverage.procedure-without-drill",
        "Performance Troubleshooting / Slow Database Queries / Investigation",
    ),
    (542, "coverage.budget-borrowed", "api-key-compromise"),
    (557, "kubectl.no-namespace", "Secret"),
    (566, "contract.unsigned-request", "api.binance.com/api/v3/account"),
    (573, "commands.never-ends", "logs -f"),
    (
        581,
        "coverage.procedure-without-drill",
        "Backup and Recovery Procedures / Emergency Backup Creation",
    ),
    (594, "contract.backup-never-written", "emergency-backup-<timestamp>"),
    (
        597,
        "coverage.procedure-without-drill",
        "Backup and Recovery Procedures / Point-in-Time Recovery",
    ),
    (608, "contract.backup-never-written", "backup-<timestamp>"),
    (
        620,
        "coverage.procedure-without-drill",
        "Backup and Recovery Procedures / Disaster Recovery / Complete System Recovery",
    ),
    (634, "commands.unknown-flag", "--s3-key"),
    (634, "contract.backup-never-written", "latest-backup"),
    (639, "kubectl.missing-file", "k8s/monitoring.yaml"),
    (647, "coverage.budget-borrowed", "planned-maintenance"),
    (695, "commands.never-ends", "logs -f"),
    (
        708,
        "coverage.procedure-without-drill",
        "Maintenance Procedures / Security Updates / Critical Security Patch",
    ),
    (715, "commands.missing-file", "docker/Dockerfile.backend"),
    (719, "kubectl.unknown-namespace", "trading-bot-staging"),
    (734, "coverage.budget-borrowed", "controlled-shutdown"),
    (734, "coverage.budget-borrowed", "emergency-shutdown"),
    (761, "commands.never-ends", "logs -f"),
    (775, "coverage.budget-borrowed", "ledger-data-loss"),
    (795, "contract.backup-never-written", "backup-<timestamp>"),
    (813, "coverage.budget-borrowed", "backend-cut-from-redis"),
    (831, "kubectl.drain-without-timeout", "drain"),
}
# every `kubectl exec -it` of the runbook: automation has no terminal
INTERACTIVE = [
    84, 154, 184, 185, 206, 271, 283, 299, 359, 373, 376, 389, 392, 409, 412, 438, 465, 468,
    471, 477, 480, 483, 512, 518, 521, 535, 566, 608, 611, 634, 642, 678, 681, 742, 783, 786,
    795, 801, 839,
]  # fmt: skip


def _check(text: str) -> list[Finding]:
    return offline_checks(RunbookDoc.from_text(text, "copy.md"))


def _keys(findings: list[Finding]) -> set[tuple[int, str, str]]:
    return {(f.line, f.code, f.subject) for f in findings if f.code != "commands.interactive"}


def _mutate(old: str, new: str, count: int = 1) -> str:
    assert TEXT.count(old) >= count, f"the runbook no longer holds {old!r}"
    return TEXT.replace(old, new, count)


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    return offline_checks(RunbookDoc.load(RUNBOOK))


def test_the_runbooks_findings_exactly(findings: list[Finding]) -> None:
    assert _keys(findings) == EXPECTED
    assert sorted(f.line for f in findings if f.code == "commands.interactive") == INTERACTIVE


def test_findings_name_their_section_and_say_what_is_wrong(findings: list[Finding]) -> None:
    by_key = {(f.line, f.code): f for f in findings}
    staging = by_key[(719, "kubectl.unknown-namespace")]
    assert staging.section == (
        "Maintenance Procedures",
        "Security Updates",
        "Critical Security Patch",
    )
    assert "'trading-bot-staging' is in no manifest" in staging.message
    assert staging.command.startswith("kubectl set image deployment/backend")
    signed = by_key[(566, "contract.unsigned-request")]
    assert "lacks timestamp, signature" in signed.message
    assert by_key[(634, "commands.unknown-flag")].message == (
        "/app/scripts/restore.sh has no option --s3-key (it offers --file, --list)"
    )


def test_a_wrong_namespace_is_found() -> None:
    text = _mutate("kubectl get pvc -n trading-bot\n", "kubectl get pvc -n trading-bots\n")
    new = _keys(_check(text)) - EXPECTED
    assert new == {(119, "kubectl.unknown-namespace", "trading-bots")}


def test_a_label_that_matches_nothing_is_found() -> None:
    text = _mutate(
        "kubectl get pods -n trading-bot -l app=redis",
        "kubectl get pods -n trading-bot -l app=rediss",
    )
    new = _check(text)
    assert _keys(new) - EXPECTED == {(49, "kubectl.selector-matches-nothing", "app=rediss")}
    (found,) = [f for f in new if f.code == "kubectl.selector-matches-nothing"]
    assert (
        "app labels there: backend, backup-pod, exchange, frontend, postgres, rabbitmq, redis"
        in found.message
    )


def test_a_port_that_moved_is_found() -> None:
    text = _mutate("curl -f http://localhost:8080/health", "curl -f http://localhost:8081/health")
    new = _check(text)
    assert _keys(new) - EXPECTED == {(359, "contract.unknown-port", "localhost:8081")}
    (found,) = [f for f in new if f.code == "contract.unknown-port"]
    assert found.message == "localhost:8081: backend listens on 3000, 8080, not 8081"


def test_an_endpoint_that_is_not_served_is_found() -> None:
    text = _mutate("localhost:3000/api/risk/emergency-close", "localhost:3000/api/risk/close")
    assert _keys(_check(text)) - EXPECTED == {
        (299, "contract.unknown-endpoint", "POST /api/risk/close")
    }


def test_an_unsigned_exchange_call_and_an_unknown_exchange_route() -> None:
    text = _mutate('"https://api.binance.com/api/v3/ping"', '"https://api.binance.com/api/v3/pong"')
    assert _keys(_check(text)) - EXPECTED == {
        (184, "contract.unknown-endpoint", "api.binance.com/api/v3/pong")
    }


def test_a_deleted_alert_section_is_found() -> None:
    start = TEXT.index("### HighRiskExposure")
    end = TEXT.index("## Service Recovery Procedures")
    found = _check(TEXT[:start] + TEXT[end:])
    gone = {(f.code, f.subject) for f in found if f.code == "coverage.drill-without-section"}
    assert gone == {("coverage.drill-without-section", "high-risk-exposure")}
    # the drill of each env that has one (Docker, and real Kubernetes nodes)
    messages = sorted(f.message for f in found if f.code == "coverage.drill-without-section")
    assert messages == [
        f"drill high-risk-exposure ({env}) drills alert HighRiskExposure, which this runbook "
        "no longer has"
        for env in ("docker", "kubernetes")
    ]


def test_an_alert_without_a_drill_or_rule_is_found() -> None:
    text = _mutate("### TradingBotDown\n", "### TradingBotStalled\n")
    keys = _keys(_check(text))
    assert (17, "coverage.alert-without-drill", "TradingBotStalled") in keys
    assert (17, "coverage.alert-without-rule", "TradingBotStalled") in keys
    # its drills now drill an alert the runbook no longer has
    assert (0, "coverage.drill-without-section", "backend-killed") in keys


def test_a_budget_that_disagrees_with_the_drills_is_found() -> None:
    text = _mutate("restored within 10 minutes", "restored within 20 minutes")
    mismatches = [f for f in _check(text) if f.code == "coverage.budget-mismatch"]
    assert {f.subject for f in mismatches} >= {
        "backend-killed:time_to_recover",
        "backend-bad-rollout:time_to_recover",  # a Kubernetes drill
    }
    assert {f.line for f in mismatches} == {91}
    one = next(f for f in mismatches if f.subject == "backend-killed:time_to_recover")
    assert "asserts time_to_recover <= 600s" in one.message
    assert "this runbook says 1200s" in one.message


def test_a_container_a_patch_does_not_have_is_found() -> None:
    text = _mutate(
        '"containers":[{"name":"postgres","resources"', '"containers":[{"name":"db","resources"'
    )
    assert _keys(_check(text)) - EXPECTED == {(486, "kubectl.unknown-container", "db")}


def test_a_missing_secret_and_cronjob_are_found() -> None:
    text = _mutate("kubectl get secret exchange-api-secrets", "kubectl get secret exchange-secrets")
    text = text.replace(
        "--from=cronjob/postgres-backup restore-", "--from=cronjob/pg-backup restore-"
    )
    assert _keys(_check(text)) - EXPECTED == {
        (160, "kubectl.unknown-object", "CronJob/pg-backup"),
        (191, "kubectl.unknown-object", "Secret/exchange-secrets"),
    }


def test_a_flag_kubectl_does_not_have_is_found() -> None:
    text = _mutate(
        "kubectl scale deployment frontend --replicas=1",
        "kubectl scale deployment frontend --replica=1",
    )
    assert _keys(_check(text)) - EXPECTED == {(69, "commands.unknown-flag", "--replica")}


def test_fingerprints_survive_unrelated_edits(findings: list[Finding]) -> None:
    shifted = _check(
        TEXT.replace("## Table of Contents\n", "## Table of Contents\n\nA new line.\n\n", 1)
    )
    assert {f.fingerprint for f in shifted} == {f.fingerprint for f in findings}
    assert {f.line for f in shifted} != {f.line for f in findings}


def test_a_drill_without_its_experiment_is_found() -> None:
    from drillbook.checks.coverage import check_coverage, drill_refs, rule_names
    from drillbook.drills.catalog import docker_drills

    doc = RunbookDoc.load(RUNBOOK)
    drills = drill_refs(docker_drills(doc.runbook), "docker")
    rules = rule_names(ROOT / "fixtures" / "monitoring" / "rules" / "trading-bot.yml")
    shipped = {p.stem for p in (ROOT / "experiments").glob("*.yaml")}
    assert not [
        f for f in check_coverage(doc, doc, drills, rules, shipped) if "experiment" in f.code
    ]
    found = check_coverage(doc, doc, drills, rules, shipped - {"backend-hung"})
    assert [(f.code, f.subject) for f in found if "experiment" in f.code] == [
        ("coverage.drill-without-experiment", "backend-hung")
    ]

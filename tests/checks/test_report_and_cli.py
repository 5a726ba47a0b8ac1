"""The report's formats, the baseline, and ``drillbook runbook check``'s exit codes (offline:
no lab; the Docker run is in test_sql_lab.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.checks import Baseline, CheckOptions, render, run_check
from drillbook.checks.sql import classify, resolve_placeholders
from drillbook.environments.kubernetes._kubectl_argv import parse_kubectl

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "fixtures" / "operational-runbooks.md"
BASELINE = ROOT / "fixtures" / "runbook-baseline.json"
SRC = str(ROOT / "src")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillbook", "runbook", "check", "--env", "offline", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        check=False,
    )


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the runbook whose network-policy file moved: one new regression."""
    path = tmp_path_factory.mktemp("rb") / "runbook.md"
    path.write_text(RUNBOOK.read_text().replace("k8s/network-policies.yaml", "k8s/netpol.yaml"))
    return path


def test_the_project_runbook_is_green_against_its_baseline() -> None:
    result = run("--baseline", str(BASELINE))
    assert result.returncode == 0, result.stderr
    assert "0 new (baseline" in result.stderr


def test_without_a_baseline_every_finding_fails() -> None:
    result = run()
    assert result.returncode == 1
    assert (
        "fixtures/operational-runbooks.md:719: NEW error kubectl.unknown-namespace" in result.stdout
    )


def test_a_new_regression_fails_and_only_it_is_new(broken: Path) -> None:
    result = run(str(broken), "--baseline", str(BASELINE), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    new = [f for f in report["findings"] if f["new"]]
    assert [(f["line"], f["code"], f["subject"]) for f in new] == [
        (237, "kubectl.missing-file", "k8s/netpol.yaml")
    ]
    assert new[0]["section"] == [
        "Alert Response Procedures",
        "ExchangeConnectionLost",
        "Resolution Steps",
    ]


def test_text_is_grouped_by_section_with_line_numbers() -> None:
    report = run_check(CheckOptions(RUNBOOK, env="offline"), Baseline.load(BASELINE))
    text = render(report, "text")
    block = text.split("\nMaintenance Procedures / Security Updates / Critical Security Patch\n")[1]
    lines = [line for line in block.splitlines() if line.startswith(f"  {RUNBOOK}:")]
    assert [line.split(":")[1] for line in lines[:3]] == ["708", "715", "719"]
    assert lines[1] == (
        f"  {RUNBOOK}:715: warning commands.missing-file: docker build -f "
        "docker/Dockerfile.backend: the project has no such file"
    )
    assert f"{RUNBOOK}:719: error kubectl.unknown-namespace" in block
    assert "NEW" not in text  # everything is accepted
    assert "not checked: SQL, binaries (--env docker) and kubectl live (--env kubernetes)" in text


def test_junit_has_a_suite_per_check_and_fails_new_findings(broken: Path) -> None:
    report = run_check(CheckOptions(broken, env="offline"), Baseline.load(BASELINE))
    root = ET.fromstring(render(report, "junit"))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {
        "runbook.coverage",
        "runbook.kubectl",
        "runbook.contract",
        "runbook.commands",
    }
    assert suites["runbook.kubectl"].get("failures") == "1"
    assert sum(int(s.get("failures") or 0) for s in suites.values()) == 1
    (failed,) = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed.get("line") == "237"
    assert failed.get("name") == "line 237: kubectl.missing-file k8s/netpol.yaml"


def test_write_baseline_then_green(tmp_path: Path, broken: Path) -> None:
    target = tmp_path / "baseline.json"
    assert run(str(broken), "--write-baseline", str(target)).returncode == 0
    data = json.loads(target.read_text())
    assert all(e["reason"].startswith("TODO") for e in data["accepted"])
    assert run(str(broken), "--baseline", str(target)).returncode == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"accepted": {}}', 'expected {"version": 1, "accepted": [...]}'),
        ('{"accepted": [{"fingerprint": "ab", "code": "x"}]}', "accepted[0] (x) has no reason"),
    ],
)
def test_a_bad_baseline_exits_2_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    result = run("--baseline", str(path))
    assert result.returncode == 2
    assert f"baseline {path}: " in result.stderr
    assert message in result.stderr


def test_a_missing_or_malformed_runbook_exits_2(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.md"))
    assert result.returncode == 2
    assert "nope.md: no such file" in result.stderr
    bad = tmp_path / "bad.md"
    bad.write_text(
        "# Runbook\n\n## Alert Response Procedures\n\n### X\n\n```bash\nkubectl get pods\n"
    )
    result = run(str(bad))
    assert result.returncode == 2
    assert "bad.md:7: code block opened here is never closed" in result.stderr


def test_runbook_show_still_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "drillbook", "runbook", "show", "--json"],
        capture_output=True, text=True, timeout=60, env={"PYTHONPATH": SRC}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["alerts"][0]["name"] == "TradingBotDown"


@pytest.mark.parametrize(
    ("argv", "verb", "targets", "namespace", "selector"),
    [
        (
            "kubectl logs deployment/backend -n trading-bot -f",
            "logs",
            [("Deployment", "backend")],
            "trading-bot",
            None,
        ),
        (
            "kubectl delete secret a b -n ns",
            "delete",
            [("Secret", "a"), ("Secret", "b")],
            "ns",
            None,
        ),
        (
            "kubectl cp trading-bot/backup-pod:/x ./y",
            "cp",
            [("Pod", "backup-pod")],
            "trading-bot",
            None,
        ),
        (
            "kubectl top pods -n trading-bot --sort-by=cpu",
            "top",
            [("Pod", None)],
            "trading-bot",
            None,
        ),
        (
            "kubectl wait --for=delete pod -l app=backend -n t",
            "wait",
            [("Pod", None)],
            "t",
            "app=backend",
        ),
        (
            "kubectl drain <node-name> --ignore-daemonsets",
            "drain",
            [("Node", "<node-name>")],
            None,
            None,
        ),
        (
            "kubectl exec -it <postgres-pod> -n t -- psql -c x",
            "exec",
            [("Pod", "<postgres-pod>")],
            "t",
            None,
        ),
    ],
)
def test_kubectl_is_read_as_kubectl_reads_it(
    argv: str,
    verb: str,
    targets: list[tuple[str, str | None]],
    namespace: str | None,
    selector: str | None,
) -> None:
    call = parse_kubectl(argv.split())
    assert call is not None
    assert (call.verb, [(t.kind, t.name) for t in call.targets], call.namespace, call.selector) == (
        verb,
        targets,
        namespace,
        selector,
    )


def test_sql_kinds_and_placeholders() -> None:
    assert classify("SELECT 1") == "read"
    assert classify("UPDATE users SET x = 1;") == "write"
    assert classify("CREATE INDEX CONCURRENTLY i ON t(c);") == "autocommit"
    sql, notes, unknown = resolve_placeholders(
        "SELECT pg_terminate_backend(<pid>) WHERE '<target-time>' < now() AND <whatever>"
    )
    assert (
        sql
        == "SELECT pg_terminate_backend(2147483647) WHERE '2026-01-01 00:00:00+00' < now() AND <whatever>"
    )
    assert unknown == ["whatever"]
    assert len(notes) == 2


def test_the_public_names_resolve() -> None:
    import drillbook.checks

    assert drillbook.checks.__all__
    for name in drillbook.checks.__all__:
        assert getattr(drillbook.checks, name) is not None, name


_WORDS = st.sampled_from(
    ["get", "pods", "pod/x", "-n", "ns", "-l", "app=x", "-f", "k8s/a.yaml", "--", "sh", "-it",
     "--from=cronjob/c", "set", "env", "A=1", "rollout", "restart", "cp", "ns/p:/x", "|", "=", ""]
)  # fmt: skip


@given(st.lists(_WORDS, max_size=12))
def test_any_kubectl_line_is_read_without_crashing(words: list[str]) -> None:
    call = parse_kubectl(["kubectl", *words])
    if len(words) >= 1:
        assert call is not None
        assert call.verb == words[0]
        assert all(t.kind for t in call.targets)

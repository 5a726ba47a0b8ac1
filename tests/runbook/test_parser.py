"""The runbook model on the project's copy of the runbook, and on broken markdown."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.errors import RunbookParseError
from drillbook.runbook import load_runbook, parse_runbook, render_runbook, runbook_to_json

RUNBOOK = Path(__file__).resolve().parents[2] / "fixtures" / "operational-runbooks.md"
TEXT = RUNBOOK.read_text()
RB = load_runbook(RUNBOOK)


@pytest.mark.parametrize(
    ("alert", "respond_s", "respond_line", "restore_kind", "restore_s", "restore_line"),
    [
        ("TradingBotDown", 120, 20, "restore", 600, 91),
        ("DatabaseDown", 120, 98, "restore", 900, 166),
        ("ExchangeConnectionLost", 300, 173, "restore", 900, 253),
        ("HighRiskExposure", 60, 260, "positions_closed", 300, 324),
    ],
)
def test_alert_budgets_come_from_the_runbook_text(
    alert: str,
    respond_s: float,
    respond_line: int,
    restore_kind: str,
    restore_s: float,
    restore_line: int,
) -> None:
    a = RB.alert(alert)
    assert a.severity == "Critical"
    assert (a.respond_budget.seconds, a.respond_budget.line) == (respond_s, respond_line)
    restore = a.restore_budget
    assert restore is not None
    assert (restore.kind, restore.seconds, restore.line) == (restore_kind, restore_s, restore_line)
    assert TEXT.splitlines()[restore_line - 1].strip().startswith("- If ")


def test_breach_procedure_windows() -> None:
    windows = {
        p.path[-1]: (p.window.seconds if p.window else None)
        for p in RB.procedures
        if p.path[1] == "Suspected Breach"
    }
    assert windows == {
        "Immediate Actions (< 5 minutes)": 300,
        "Investigation (< 30 minutes)": 1800,
        "Containment (< 1 hour)": 3600,
    }


def test_alerts_and_procedures_are_all_found() -> None:
    assert [a.name for a in RB.alerts] == [
        "TradingBotDown",
        "DatabaseDown",
        "ExchangeConnectionLost",
        "HighRiskExposure",
    ]
    categories = {p.category for p in RB.procedures}
    assert categories == {
        "service_recovery",
        "database_recovery",
        "performance",
        "security",
        "backup",
        "maintenance",
        "emergency",
    }
    assert RB.procedure("Slow Database Queries", "Investigation").category == "performance"
    assert RB.procedure("Security Updates", "Critical Security Patch").category == "maintenance"
    assert len(RB.procedures) == 28


def test_investigation_and_resolution_steps() -> None:
    tbd = RB.alert("TradingBotDown")
    assert [s.title for s in tbd.investigation] == [
        "Check Pod Status",
        "Review Recent Logs",
        "Check Resource Usage",
        "Verify Dependencies",
    ]
    assert next(s.title for s in tbd.resolution) == "If Pod is CrashLooping"
    restart = tbd.resolution[2]
    assert [c.text for c in restart.commands] == [
        "kubectl rollout restart deployment/backend -n trading-bot",
        "kubectl rollout status deployment/backend -n trading-bot",
    ]
    ref = restart.commands[0].kubectl
    assert ref is not None
    assert (ref.verb, ref.resource, ref.name, ref.namespace) == (
        "rollout",
        "deployment",
        "backend",
        "trading-bot",
    )
    get_pods = tbd.investigation[0].commands[0].kubectl
    assert get_pods is not None
    assert (get_pods.verb, get_pods.resource, get_pods.selector) == ("get", "pods", "app=backend")


def test_sql_statements_and_meta_commands() -> None:
    sql = [s for c in RB.commands() for s in c.sql]
    texts = [s.text for s in sql]
    assert (
        "SELECT symbol, side, size, entry_price, unrealized_pnl FROM positions WHERE status = 'open';"
        in texts
    )
    assert (
        "CREATE INDEX CONCURRENTLY idx_trades_timestamp ON trade_executions(executed_at);" in texts
    )
    assert "SELECT COUNT(*) FROM users;" in texts
    assert "SELECT COUNT(*) FROM trade_executions;" in texts  # one -c, two statements
    meta = [s for s in sql if s.meta]
    assert [m.text for m in meta] == ["\\dt"]


def test_placeholders_with_lines_and_substitutions() -> None:
    names = {p.name for c in RB.commands() for p in c.placeholders}
    assert {"backend-pod", "postgres-pod", "node-name", "timestamp", "pid", "target-time"} <= names
    first = next(p for c in RB.commands() for p in c.placeholders if p.name == "backend-pod")
    assert first.line == 31
    assert "<backend-pod>" in TEXT.splitlines()[30][first.column - 1 :][:13]
    backups = [c for c in RB.commands() if "$(date +%s)" in c.substitutions]
    assert backups


def test_continuations_and_http_calls() -> None:
    secret = next(
        c
        for c in RB.commands()
        if c.text.startswith("kubectl create secret generic exchange-api-secrets")
    )
    assert "--from-literal=BINANCE_API_SECRET=new-secret" in secret.argv
    assert secret.line == 216
    close = next(
        c for c in RB.commands() if c.http and c.http.url.endswith("/api/risk/emergency-close")
    )
    assert close.http is not None
    assert close.http.method == "POST"
    assert close.http.body == '{"reason": "high_risk_exposure"}'
    assert close.kubectl is not None
    assert close.kubectl.interactive


def test_render_and_json() -> None:
    text = render_runbook(RB)
    assert "TradingBotDown [Critical] respond within 2 min, restore within 10 min" in text
    data = runbook_to_json(RB)
    assert data["alerts"][3]["restore_budget"]["kind"] == "positions_closed"


@pytest.mark.parametrize(
    ("markdown", "line", "message"),
    [
        (
            "# R\n## Alert Response Procedures\n### A\n**Severity**: High\n**Response Time**: < 2 minutes\n```bash\nls\n",
            6,
            "never closed",
        ),
        (
            "# R\n## Alert Response Procedures\n### A\n**Response Time**: < 2 minutes\n",
            3,
            "has no **Severity**",
        ),
        (
            "# R\n## Alert Response Procedures\n### A\n**Severity**: High\n",
            3,
            "has no **Response Time**",
        ),
        (
            "# R\n## Alert Response Procedures\n### A\n**Severity**: High\n**Response Time**: soon\n",
            5,
            "has no duration",
        ),
        (
            "# R\n## Alert Response Procedures\n### A\n**Severity**: High\n**Response Time**: < 1 minute\n**Response Time**: < 2 minutes\n",
            6,
            "given twice",
        ),
        (
            "# R\n## Alert Response Procedures\n### A\n**Severity**: High\n**Response Time**: < 1 minute\n### A\n**Severity**: High\n**Response Time**: < 1 minute\n",
            6,
            "defined twice",
        ),
        (
            "# R\n## Alert Response Procedures\n### A\n**Severity**: High\n**Response Time**: < 1 minute\n#### Resolution Steps\n1. **Fix**\n```bash\necho 'unclosed\n```\n",
            9,
            "cannot split the shell command",
        ),
        ("no title\n", 1, "expected a '# Title' heading"),
    ],
)
def test_malformed_markdown_names_the_line(markdown: str, line: int, message: str) -> None:
    with pytest.raises(RunbookParseError) as info:
        parse_runbook(markdown, "bad.md")
    assert any(ln == line and message in msg for ln, msg in info.value.problems), (
        info.value.problems
    )
    assert f"bad.md:{line}:" in str(info.value)


def test_several_problems_are_reported_together() -> None:
    md = "# R\n## Alert Response Procedures\n### A\n### B\n"
    with pytest.raises(RunbookParseError) as info:
        parse_runbook(md, "bad.md")
    assert len(info.value.problems) == 4  # each alert lacks two fields


LINES = TEXT.splitlines()


@given(st.data())
def test_mutations_never_raise_anything_but_a_parse_error(data: st.DataObject) -> None:
    lines = list(LINES)
    for _ in range(data.draw(st.integers(1, 5))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["delete", "duplicate", "swap", "garble"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = data.draw(st.text(max_size=40))
    problems: list[tuple[int, str]] = []
    try:
        parse_runbook("\n".join(lines), "mutant.md")
    except RunbookParseError as exc:
        problems = exc.problems
    assert all(isinstance(ln, int) and msg for ln, msg in problems)


@given(st.text(max_size=300))
def test_arbitrary_text_gives_a_runbook_or_a_parse_error(text: str) -> None:
    with contextlib.suppress(RunbookParseError):
        parse_runbook(text)

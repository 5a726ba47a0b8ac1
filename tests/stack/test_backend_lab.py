"""The backend's contract, against the real lab: health, flags, risk endpoints, schema, backups."""

from __future__ import annotations

import json
import subprocess
import time

import psycopg
import pytest

from drillbook.environments.docker import DockerLab
from drillbook.errors import ServiceUnhealthy
from support.http import http

pytestmark = pytest.mark.docker
DEPENDENCIES = {"postgres", "redis", "rabbitmq", "binance", "kucoin"}


def health_url(lab: DockerLab) -> str:
    return lab.services()["backend"].endpoint("health").url


def api_url(lab: DockerLab) -> str:
    return lab.services()["backend"].endpoint("api").url


def test_health_reports_every_dependency_and_flag(stack_lab: DockerLab) -> None:
    status, body = http(health_url(stack_lab) + "/health")
    assert set(body["dependencies"]) == DEPENDENCIES
    for name in ("postgres", "redis", "rabbitmq"):
        assert body["dependencies"][name]["up"] is True, body
    assert body["flags"]["TRADING_ENABLED"] is True
    assert body["security"] == {"mfa_required": False, "session_timeout_s": 3600}
    assert status == 200
    metrics = http(health_url(stack_lab) + "/metrics")[1]
    assert "trading_bot_up 1" in metrics
    assert 'trading_bot_dependency_up{dependency="postgres"} 1' in metrics
    assert 'trading_bot_flag{name="EMERGENCY_RISK_MODE"} 0' in metrics


def test_health_is_503_while_postgres_is_down(stack_lab: DockerLab) -> None:
    pg = stack_lab.client.containers.get(f"{stack_lab.name}-postgres")
    pg.stop(timeout=5)
    try:
        deadline = time.monotonic() + 20
        status, body = http(health_url(stack_lab) + "/health")
        while status != 503 and time.monotonic() < deadline:
            time.sleep(0.2)
            status, body = http(health_url(stack_lab) + "/health")
        assert status == 503
        assert "postgres unreachable" in body["problems"]
        assert body["dependencies"]["postgres"]["up"] is False
    finally:
        pg.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, body = http(health_url(stack_lab) + "/health")
        if body["dependencies"]["postgres"]["up"]:
            break
        time.sleep(0.2)
    assert body["dependencies"]["postgres"]["up"] is True


def test_every_runbook_flag_is_visible(stack_lab: DockerLab) -> None:
    env = {
        "EMERGENCY_MODE": "true",
        "MFA_REQUIRED": "true",
        "SESSION_TIMEOUT": "300",
        "MAINTENANCE_MODE": "true",
        "MAINTENANCE_NOTICE": "Scheduled maintenance in 24 hours",
        "ENABLE_PROFILING": "true",
        "EMERGENCY_RISK_MODE": "true",
        "MAX_POSITION_SIZE_PERCENT": "1",
    }
    stack_lab.recreate("backend", env=env)
    try:
        status, body = http(health_url(stack_lab) + "/health")
        assert body["status"] == "maintenance"
        assert body["maintenance_notice"] == "Scheduled maintenance in 24 hours"
        assert body["security"] == {"mfa_required": True, "session_timeout_s": 300}
        assert body["trading"]["allowed"] is False
        for flag in ("EMERGENCY_MODE", "MFA_REQUIRED", "ENABLE_PROFILING", "EMERGENCY_RISK_MODE"):
            assert body["flags"][flag] is True
        status, answer = http(api_url(stack_lab) + "/api/positions")
        assert status == 503
        assert answer["notice"] == "Scheduled maintenance in 24 hours"
        metrics = http(health_url(stack_lab) + "/metrics")[1]
        assert 'trading_bot_flag{name="MAINTENANCE_MODE"} 1' in metrics
    finally:
        stack_lab.recreate("backend", env=dict.fromkeys(env))
    assert http(health_url(stack_lab) + "/health")[1]["flags"]["MAINTENANCE_MODE"] is False


def test_emergency_close_endpoints_answer_as_the_runbook_calls_them(stack_lab: DockerLab) -> None:
    body = json.dumps({"reason": "high_risk_exposure"}).encode()
    status, answer = http(api_url(stack_lab) + "/api/risk/emergency-close", "POST", body)
    assert status == 200
    assert answer["reason"] == "high_risk_exposure"
    assert isinstance(answer["closed"], list)
    assert answer["failed"] == []
    status, answer = http(api_url(stack_lab) + "/api/emergency/close-all-positions", "POST")
    assert status == 200
    assert answer["reason"] == "emergency_shutdown"
    status, answer = http(api_url(stack_lab) + "/api/risk/emergency-close", "POST", b"not json")
    assert status == 400
    assert "reason" in answer["error"]


def test_a_bad_setting_stops_the_backend_with_a_message(stack_lab: DockerLab) -> None:
    try:
        with pytest.raises(ServiceUnhealthy) as info:
            stack_lab.recreate("backend", env={"SIMULATE_TRADING": "maybe"})
        assert "SIMULATE_TRADING='maybe': expected true or false" in str(info.value)
        assert "exit code 2" in str(info.value)
    finally:
        stack_lab.recreate("backend", env={"SIMULATE_TRADING": None})


def test_migrate_command_is_idempotent(stack_lab: DockerLab) -> None:
    out = subprocess.run(
        ["docker", "exec", f"{stack_lab.name}-backend", "python3", "-m", "backend", "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "applied: nothing (up to date)"


def test_runbook_sql_is_meaningful_against_the_schema(stack_lab: DockerLab) -> None:
    url = stack_lab.services()["postgres"].url
    read_only = [
        "SELECT symbol, side, size, entry_price, unrealized_pnl FROM positions WHERE status = 'open';",
        "SELECT * FROM trade_executions WHERE executed_at > NOW() - INTERVAL '1 hour' ORDER BY executed_at DESC;",
        "SELECT pg_database_size('trading_bot');",
        "SELECT pid, now() - pg_stat_activity.query_start AS duration, query FROM pg_stat_activity WHERE (now() - pg_stat_activity.query_start) > interval '5 minutes';",
        "SELECT * FROM pg_locks WHERE NOT granted;",
        "SELECT * FROM audit_logs WHERE created_at > NOW() - INTERVAL '24 hours' ORDER BY created_at DESC;",
        "SELECT COUNT(*) FROM users;",
        "SELECT COUNT(*) FROM trade_executions;",
        "SELECT * FROM data_integrity_check();",
        "SELECT COUNT(*) FROM trade_executions WHERE executed_at < '2026-01-01T00:00:00Z';",
    ]
    with psycopg.connect(url) as conn:
        for sql in read_only:
            conn.execute(sql).fetchall()
        conn.rollback()
        with conn.transaction(force_rollback=True):
            conn.execute("UPDATE users SET password_reset_required = true;")
        conn.autocommit = True
        conn.execute("ANALYZE;")
        conn.execute(
            "CREATE INDEX CONCURRENTLY idx_trades_timestamp ON trade_executions(executed_at);"
        )
        conn.execute("DROP INDEX CONCURRENTLY idx_trades_timestamp;")
        # the runbook's slow-query query predates PostgreSQL 13: mean_time is mean_exec_time now
        with pytest.raises(psycopg.errors.UndefinedColumn, match="mean_time"):
            conn.execute(
                "SELECT query, mean_time, calls FROM pg_stat_statements ORDER BY mean_time DESC LIMIT 10;"
            )
        conn.execute(
            "SELECT query, mean_exec_time, calls FROM pg_stat_statements ORDER BY mean_exec_time DESC LIMIT 10;"
        )


def test_backups_are_declared_good_only_after_a_verified_restore(stack_lab: DockerLab) -> None:
    def backup(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "exec", f"{stack_lab.name}-backup", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    made = backup("python3", "-m", "backup", "create", "emergency-backup")
    assert made.returncode == 0, made.stderr
    assert "data_integrity_check() empty" in made.stdout
    listed = backup("/app/scripts/restore.sh", "--list")
    path = listed.stdout.split()[0]
    assert path.startswith("/backups/emergency-backup-")
    assert path.endswith(".sql.gz")
    assert "verified" in listed.stdout
    url = stack_lab.services()["postgres"].url
    with psycopg.connect(url, autocommit=True) as conn:
        # a position with no trade behind it: an invariant violation the backup must refuse
        conn.execute(
            "INSERT INTO positions(symbol, side, size, entry_price, exchange) VALUES ('BTC/USDT', 'long', 1, 1, 'binance')"
        )
        try:
            bad = backup("python3", "-m", "backup", "create", "pre-recovery-backup")
            assert bad.returncode == 1
            assert "is NOT good" in bad.stderr
            assert "position_without_opening_trade" in bad.stderr
            backend = stack_lab.container("backend")
            backend.stop(timeout=10)  # the runbook stops the applications before a restore
            try:
                restored = backup("/app/scripts/restore.sh", "--file", path)
            finally:
                backend.start()
            assert restored.returncode == 0, restored.stderr
            assert "data_integrity_check(): empty" in restored.stdout
            bogus = "SELECT count(*) FROM positions WHERE size = 1 AND entry_price = 1"
            assert conn.execute(bogus).fetchone() == (0,)
        finally:
            conn.execute(
                "DELETE FROM positions WHERE exchange = 'binance' AND size = 1 AND entry_price = 1"
            )

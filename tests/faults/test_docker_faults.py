"""Each Docker fault, for real: injected, proven in effect, reverted, the lab healthy again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from drillbook.environments.docker import DockerLab
from drillbook.faults import (
    BlockPeer,
    DisconnectNetwork,
    Fault,
    HangProcess,
    KeyCompromised,
    KillContainer,
    MemoryLimit,
    StopContainer,
    StorageUnavailable,
    TableCorrupted,
)
from drillbook.waiting import Check, Wait
from support.http import http

pytestmark = pytest.mark.docker


def backend_health(lab: DockerLab) -> tuple[int, dict[str, object]]:
    status, body = http(lab.services()["backend"].endpoint("health").url + "/health")
    return status, body if isinstance(body, dict) else {}


def redis_ping(url: str) -> Check:
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        return Check(bool(client.ping()), "PONG")
    finally:
        client.close()


def until(what: str, check: Callable[[], Check], timeout_s: float = 30) -> None:
    Wait(timeout_s=timeout_s, poll_s=0.1).until(check, what)


def roundtrip(
    lab: DockerLab, fault: Fault, broken: Callable[[], Check], healthy: Callable[[], Check]
) -> None:
    fault.inject(lab)
    try:
        until(f"{fault.name} in effect", lambda: fault.verify_active(lab))
        until(f"the damage of {fault.name}", broken)
    finally:
        fault.revert(lab)
    fault.revert(lab)  # idempotent
    assert not fault.verify_active(lab).ok
    until(f"recovery from {fault.name}", healthy, timeout_s=60)


def test_kill_and_stop_redis(lab: DockerLab) -> None:
    url = lab.services()["redis"].url  # stable: a restarted container keeps its host port

    def down() -> Check:
        try:
            return Check(not redis_ping(url).ok, "answered")
        except redis.RedisError as exc:
            return Check(True, str(exc))

    for fault in (KillContainer("redis"), StopContainer("redis", timeout_s=2)):
        roundtrip(lab, fault, down, lambda: redis_ping(url))


def test_hang_redis_keeps_the_process_but_answers_nothing(lab: DockerLab) -> None:
    url = lab.services()["redis"].url

    def hung() -> Check:
        try:
            redis_ping(url)
        except redis.TimeoutError:
            return Check(True, "timed out")
        return Check(False, "answered")

    roundtrip(lab, HangProcess("redis"), hung, lambda: redis_ping(url))


@pytest.mark.parametrize("fault", [BlockPeer("backend", 5432), DisconnectNetwork("postgres")])
def test_partition_backend_from_postgres(lab: DockerLab, fault: Fault) -> None:
    def cut() -> Check:
        status, body = backend_health(lab)
        return Check(
            status == 503 and "postgres unreachable" in str(body.get("problems")), str(status)
        )

    def whole() -> Check:
        status, body = backend_health(lab)
        deps = body.get("dependencies", {})
        return Check(
            isinstance(deps, dict) and deps.get("postgres", {}).get("up") is True, str(status)
        )

    roundtrip(lab, fault, cut, whole)


def test_memory_limit_crash_loops_the_backend_until_raised(lab: DockerLab) -> None:
    fault = MemoryLimit("backend", limit="48m", env=(("MEMORY_BALLAST_MB", "96"),))

    def dead() -> Check:
        return fault.verify_active(lab)

    def alive() -> Check:
        return Check(backend_health(lab)[0] == 200, "health")

    roundtrip(lab, fault, dead, alive)
    container = lab.client.containers.get(f"{lab.name}-backend")
    assert container.attrs["HostConfig"]["Memory"] == 0
    assert "MEMORY_BALLAST_MB=96" not in container.attrs["Config"]["Env"]


def postgres_answers(lab: DockerLab) -> Check:
    import psycopg

    try:
        psycopg.connect(lab.services()["postgres"].url, connect_timeout=2).close()
    except Exception as exc:
        return Check(False, f"{type(exc).__name__}: {exc}")
    return Check(True, "postgres answers")


def test_storage_unavailable_keeps_postgres_pending_and_loses_no_data(lab: DockerLab) -> None:
    import psycopg

    def executions() -> int:
        with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM trade_executions").fetchone()
        return int(row[0]) if row else -1

    before = executions()
    fault = StorageUnavailable("postgres", "postgres-data")
    roundtrip(
        lab,
        fault,
        lambda: Check(not postgres_answers(lab).ok, "postgres does not answer"),
        lambda: postgres_answers(lab),
    )
    container = lab.container("postgres")
    assert container.status == "running"
    assert executions() >= before  # the data volume was never touched
    names = [v.name for v in lab.client.volumes.list()]
    assert lab.settings.volume_name("postgres-data-unprovided") not in names


def test_table_corrupted_fails_reads_and_revert_puts_the_block_back(lab: DockerLab) -> None:
    import psycopg

    fault = TableCorrupted("trade_executions")

    def readable() -> Check:
        try:
            with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
                conn.execute("SELECT count(*) FROM trade_executions").fetchone()
        except psycopg.Error as exc:
            return Check(False, str(exc).strip())
        return Check(True, "readable")

    roundtrip(lab, fault, lambda: Check(not readable().ok, readable().detail), readable)
    _, out = lab.container("postgres").exec_run(
        ["sh", "-c", "ls /var/lib/postgresql/data | grep -c drillbook || true"]
    )
    assert out.decode().strip() == "0"  # the saved block is gone with the revert


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TableCorrupted("trades; DROP"), "expected a plain table name"),
        (lambda: KeyCompromised(interval_s=0), "interval_s=0: expected 0.1 to 10"),
        (lambda: KeyCompromised(max_orders=0), "max_orders=0: expected 1 to 500"),
        (lambda: KeyCompromised(duration_s=601), "duration_s=601: expected 1 to 600"),
    ],
)
def test_fault_parameters_are_checked(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make()


def test_a_packet_filter_on_a_killed_service_reverts_to_nothing(lab: DockerLab) -> None:
    """Found by the fault schedules: a kill overlapping a partition made the partition's revert
    fail (exec into a stopped container). The rule lives in the container's network namespace,
    which a start makes anew, so once the service is down there is nothing left to remove."""
    block, kill = BlockPeer("backend", 5432), KillContainer("backend")
    block.inject(lab)
    assert block.verify_active(lab).ok
    kill.inject(lab)
    try:
        gone = block.verify_active(lab)
        assert not gone.ok
        assert "not running" in gone.detail
        block.revert(lab)  # raised APIError 409 (container not running) before the fix
    finally:
        kill.revert(lab)
    Wait(timeout_s=30, poll_s=0.2).until(
        lambda: Check(backend_health(lab)[0] == 200, "backend healthy"), "backend back"
    )
    assert not block.verify_active(lab).ok  # the new namespace has no rule

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
    KillContainer,
    MemoryLimit,
    StopContainer,
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

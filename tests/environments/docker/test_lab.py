"""The Docker lab against the real engine: up, protocols, down, failures, cleanup by label."""

from __future__ import annotations

import dataclasses

import docker
import pika
import psycopg
import pytest
import redis

from drillbook.environments import HealthCheck, PortSpec, ServiceSpec
from drillbook.environments.docker import DockerLab, LabSettings
from drillbook.errors import ImageError, LabError, ServiceUnhealthy
from drillbook.images import ImageBuilder, get_recipe
from support.labtools import leftovers

pytestmark = pytest.mark.docker


def test_up_each_service_answers_its_protocol_then_down_leaves_nothing(
    client: docker.DockerClient, lab_name: str
) -> None:
    data = ("postgres", "redis", "rabbitmq")
    lab = DockerLab(LabSettings(name=lab_name, services=data), client=client)
    lab.start()
    try:
        services = lab.services()
        assert set(services) == {"postgres", "redis", "rabbitmq"}
        for handle in services.values():
            for ep in handle.endpoints.values():
                assert ep.host == "127.0.0.1"
        pg = services["postgres"]
        with psycopg.connect(pg.url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.execute("SELECT current_database(), current_user").fetchone() == (
                "trading_bot",
                "postgres",
            )
        assert "***" in pg.endpoint().display_url
        assert pg.url.split(":")[2].split("@")[0] not in pg.endpoint().display_url

        r = redis.Redis.from_url(services["redis"].url)
        try:
            assert r.ping() is True
        finally:
            r.close()

        conn_amqp = pika.BlockingConnection(pika.URLParameters(services["rabbitmq"].url))
        try:
            channel = conn_amqp.channel()
            channel.queue_declare("drillbook-smoke", auto_delete=True)
            assert conn_amqp.is_open
        finally:
            conn_amqp.close()

        rows = lab.status()
        assert [r.service for r in rows] == ["postgres", "rabbitmq", "redis"]
        assert all(r.healthy and r.state == "running" for r in rows)
        kinds = {x.split(":")[0] for x in leftovers(client, lab_name)}
        assert kinds == {"container", "network", "volume"}  # everything is labelled
    finally:
        lab.stop()
    assert leftovers(client, lab_name) == []


def test_a_second_lab_with_the_same_name_is_refused(
    client: docker.DockerClient, lab_name: str
) -> None:
    with DockerLab(LabSettings(name=lab_name, services=("redis",)), client=client):
        with pytest.raises(LabError, match="already up") as info:
            DockerLab(LabSettings(name=lab_name, services=("redis",)), client=client).start()
        assert "lab down" in str(info.value)
        assert len(leftovers(client, lab_name)) == 2  # the first lab is untouched
    assert leftovers(client, lab_name) == []


def test_a_service_that_never_gets_healthy_fails_with_logs_and_is_removed(
    client: docker.DockerClient, lab_name: str
) -> None:
    mute = ServiceSpec(
        name="mute",
        image="python",
        command=(
            "python3",
            "-c",
            "print('not listening', flush=True); import time; time.sleep(60)",
        ),
        ports=(PortSpec("http", 8080),),
        health=HealthCheck("http", "http", timeout_s=3.0),
    )
    lab = DockerLab(LabSettings(name=lab_name, catalog=(mute,)), client=client)
    with pytest.raises(ServiceUnhealthy) as info:
        lab.start()
    err = info.value
    assert err.service == "mute"
    assert err.timeout_s == pytest.approx(3.0, abs=1.5)
    assert "not listening" in str(err)  # the container's own log tail
    assert "Hint:" in str(err)
    assert leftovers(client, lab_name) == []


def test_a_missing_local_image_is_named_with_a_hint(client: docker.DockerClient) -> None:
    recipe = dataclasses.replace(get_recipe("redis"), packages=("redis-server", "never-built"))
    with pytest.raises(ImageError, match="is not built") as info:
        ImageBuilder(client).resolve(recipe, "local")
    assert "drillbook images build" in str(info.value)


def test_a_failed_image_build_gives_one_clear_error_and_no_image(
    client: docker.DockerClient,
) -> None:
    recipe = dataclasses.replace(
        get_recipe("redis"), name="broken-test", packages=("no-such-package-drillbook",)
    )
    with pytest.raises(ImageError) as info:
        ImageBuilder(client).build(recipe)
    text = str(info.value)
    assert "building image 'broken-test' failed: mmdebstrap exited" in text
    assert "no-such-package-drillbook" in text
    assert "Hint:" in text
    assert client.images.list(name="drillbook/broken-test") == []


def test_unchanged_recipe_is_a_cache_hit(client: docker.DockerClient) -> None:
    builder = ImageBuilder(client)
    result = builder.build(get_recipe("redis"))
    assert result.built is False
    assert builder.status(get_recipe("redis")).built


def test_looking_at_the_lab_while_a_rollout_replaces_a_container_never_fails(
    client: docker.DockerClient, lab_name: str
) -> None:
    """``services()`` and ``status()`` list the lab's containers and inspect each: one removed
    in between (a rollout, at that instant) is left out, not a NotFound for the probe that
    looked. Bounded: 4 rollouts, the looks stop with them."""
    import threading

    errors: list[BaseException] = []
    looks = 0
    stop = threading.Event()
    with DockerLab(LabSettings(name=lab_name, services=("redis",)), client=client) as lab:

        def look() -> None:
            nonlocal looks
            while not stop.is_set():
                try:
                    lab.services()
                    looks += 1
                except Exception as exc:  # what a probe would have seen
                    errors.append(exc)

        watcher = threading.Thread(target=look, daemon=True)
        watcher.start()
        try:
            for n in range(4):
                lab.recreate("redis", env={"ROLLOUT": str(n)}, wait=False)
        finally:
            stop.set()
            watcher.join(timeout=30)
    assert looks > 0
    assert errors == []

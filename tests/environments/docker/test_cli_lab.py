"""``drillbook lab`` as a user runs it: subprocesses, exit codes, SIGKILL and ``lab clean``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import docker
import pytest

from support.labtools import DRILLBOOK, cli_env, leftovers, run_cli

pytestmark = pytest.mark.docker


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=timeout)


def test_up_status_down(client: docker.DockerClient, lab_name: str) -> None:
    up = run("lab", "up", "--name", lab_name, "--service", "redis")
    assert up.returncode == 0, up.stderr
    status = run("lab", "status", "--name", lab_name, "--json")
    assert status.returncode == 0, status.stderr
    payload = json.loads(status.stdout)
    assert payload["healthy"] is True
    [row] = payload["services"]
    assert row["service"] == "redis"
    assert row["endpoint"].startswith("127.0.0.1:")
    table = run("lab", "status", "--name", lab_name)
    assert "redis" in table.stdout
    assert "healthy" in table.stdout
    down = run("lab", "down", "--name", lab_name)
    assert down.returncode == 0
    assert "removed 1 container, 1 network, 0 volumes" in down.stdout
    assert leftovers(client, lab_name) == []
    after = run("lab", "status", "--name", lab_name)
    assert after.returncode == 1
    assert "is not up" in after.stdout


def test_sigkill_midway_then_clean_removes_the_leftovers(
    client: docker.DockerClient, lab_name: str
) -> None:
    proc = subprocess.Popen(
        [*DRILLBOOK, "lab", "up", "--name", lab_name],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            x.startswith("container:") for x in leftovers(client, lab_name)
        ):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert leftovers(client, lab_name), "the killed run should have left something behind"
    clean = run("lab", "clean", "--name", lab_name)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.startswith("clean: removed ")
    assert leftovers(client, lab_name) == []
    assert run("lab", "clean", "--name", lab_name).stdout.strip() == "clean: nothing left behind"


def _sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("sig", "inherited"),
    [
        (signal.SIGINT, signal.SIG_DFL),
        (signal.SIGTERM, signal.SIG_DFL),
        # a background job of a non-interactive shell (`drillbook lab up &` in a CI script)
        # starts with SIGINT ignored: Ctrl-C's signal must still revert everything
        (signal.SIGINT, signal.SIG_IGN),
    ],
    ids=["sigint", "sigterm", "sigint-inherited-ignored"],
)
def test_interrupting_lab_up_removes_what_it_started(
    client: docker.DockerClient, lab_name: str, sig: signal.Signals, inherited: object
) -> None:
    proc = subprocess.Popen(
        [*DRILLBOOK, "lab", "up", "--name", lab_name],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_ignored if inherited is signal.SIG_IGN else None,  # noqa: PLW1509
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            x.startswith("container:") for x in leftovers(client, lab_name)
        ):
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted; everything this command started was removed" in err
    assert "Traceback" not in err
    assert leftovers(client, lab_name) == []


def test_an_occupied_port_is_refused_with_a_hint(
    client: docker.DockerClient, lab_name: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(
            "lab", "up", "--name", lab_name, "--service", "redis", "--port", f"redis={port}"
        )
    assert result.returncode == 1
    assert f"port 127.0.0.1:{port} for service 'redis' is already in use" in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert leftovers(client, lab_name) == []


def test_lab_check_writes_a_report(
    client: docker.DockerClient, lab_name: str, tmp_path: object
) -> None:
    from pathlib import Path

    out = Path(str(tmp_path))
    result = run("lab", "check", "--name", lab_name, "--report", str(out))
    assert result.returncode == 0, result.stderr
    [report] = list(out.glob("*/lab-check.json"))
    data = json.loads(report.read_text())
    assert data["healthy"] is True
    assert {s["service"] for s in data["services"]} == {
        "postgres",
        "redis",
        "rabbitmq",
        "exchange",
        "backend",
        "frontend",
        "backup",
        "prometheus",
        "alertmanager",
        "responder",
        "postgres-exporter",
        "redis-exporter",
    }
    assert all(s["healthy"] for s in data["services"])
    assert "***" in result.stderr  # credentials masked in what is printed
    assert leftovers(client, lab_name) == []

"""Chaos Toolkit actions on the drillbook Docker lab: faults and the runbook's remediation verbs.

Each takes the experiment's ``configuration`` (``drillbook_lab`` names the lab) and
``secrets`` like every Chaos Toolkit activity.
"""

from __future__ import annotations

from typing import Any

from drillbook.environments.docker import DockerPlatform
from drillbook.experiments._lab import activity, lab_from
from drillbook.faults import BlockPeer, DisconnectNetwork, HangProcess, KillContainer, StopContainer

__all__ = [
    "block_peer",
    "hang_process",
    "heal_partition",
    "kill_container",
    "partition_service",
    "restart_service",
    "resume_process",
    "set_env",
    "start_service",
    "stop_container",
    "unblock_peer",
]

Configuration = dict[str, Any] | None
Secrets = dict[str, Any] | None


@activity
def kill_container(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    """SIGKILL the service's container (the pod-kill analog)."""
    KillContainer(service).inject(lab_from(configuration))


@activity
def stop_container(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    StopContainer(service).inject(lab_from(configuration))


@activity
def start_service(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    """Start the service's container if it is not running (the revert of kill and stop)."""
    KillContainer(service).revert(lab_from(configuration))


@activity
def hang_process(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    HangProcess(service).inject(lab_from(configuration))


@activity
def resume_process(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    HangProcess(service).revert(lab_from(configuration))


@activity
def partition_service(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    DisconnectNetwork(service).inject(lab_from(configuration))


@activity
def heal_partition(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    DisconnectNetwork(service).revert(lab_from(configuration))


@activity
def block_peer(
    service: str, port: int, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    BlockPeer(service, int(port)).inject(lab_from(configuration))


@activity
def unblock_peer(
    service: str, port: int, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    BlockPeer(service, int(port)).revert(lab_from(configuration))


@activity
def restart_service(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> None:
    """``kubectl rollout restart deployment/<service>``: a fresh container, same configuration."""
    DockerPlatform(lab_from(configuration)).restart(service)


@activity
def set_env(
    service: str, env: dict[str, str], configuration: Configuration = None, secrets: Secrets = None
) -> None:
    """``kubectl set env deployment/<service> K=V``: recreate with the changed environment."""
    DockerPlatform(lab_from(configuration)).set_env(
        service, {str(k): str(v) for k, v in env.items()}
    )

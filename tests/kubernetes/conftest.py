from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def control_plane() -> Iterator[Path]:
    """A real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)
    on loopback for the session; its kubeconfig. Built by the bootstrap, cached by version."""
    from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

    # one cluster per test session: two sessions on one machine never share one
    plane = ControlPlane(ControlPlaneBuild(default_cache()), name=f"tests-{os.getpid()}", nodes=3)
    kubeconfig = plane.up(say=lambda _msg: None)
    try:
        yield kubeconfig
    finally:
        plane.down(quiet=True)


@pytest.fixture(scope="session")
def api(control_plane: Path) -> object:
    """An ApiClient of the official kubernetes client for the session's control plane."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(control_plane))

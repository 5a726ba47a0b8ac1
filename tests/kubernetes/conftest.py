from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def control_plane() -> Iterator[Path]:
    """A real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)
    on loopback for one test module, stopped after it (never running beside the Docker
    drills); its kubeconfig. Built by the bootstrap, cached by version."""
    from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

    # named by process: two test sessions on one machine never share a cluster
    plane = ControlPlane(ControlPlaneBuild(default_cache()), name=f"tests-{os.getpid()}", nodes=3)
    kubeconfig = plane.up(say=lambda _msg: None)
    try:
        yield kubeconfig
    finally:
        plane.down(quiet=True)


@pytest.fixture(scope="module")
def api(control_plane: Path) -> object:
    """An ApiClient of the official kubernetes client for the module's control plane."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(control_plane))

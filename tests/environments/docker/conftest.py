from __future__ import annotations

import uuid
from collections.abc import Iterator

import docker
import pytest

from drillbook.engine import docker_client
from drillbook.environments.docker import clean_leftovers


@pytest.fixture(scope="session")
def client() -> Iterator[docker.DockerClient]:
    c = docker_client()
    yield c
    c.close()


@pytest.fixture
def lab_name(client: docker.DockerClient) -> Iterator[str]:
    """A fresh lab name; whatever a test leaves under it is removed afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    clean_leftovers(client, name)

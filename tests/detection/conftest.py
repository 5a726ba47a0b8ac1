from __future__ import annotations

import pytest

from drillbook.engine import docker_client
from drillbook.images import ImageBuilder, get_recipe, image_source_from_env


@pytest.fixture(scope="session")
def monitoring_image() -> str:
    """The lab's monitoring image (Prometheus, promtool, Alertmanager), built if missing."""
    return ImageBuilder(docker_client()).resolve(get_recipe("monitoring"), image_source_from_env())

"""The Docker lab backend: testcontainers on one labelled network, cleaned up by label."""

from drillbook.environments.docker._cleanup import clean_leftovers, list_resources
from drillbook.environments.docker._existing import existing_lab
from drillbook.environments.docker._lab import DockerLab
from drillbook.environments.docker._labels import (
    Resource,
    lab_labels,
    new_run_id,
    select_for_clean,
    select_for_down,
)
from drillbook.environments.docker._platform import (
    DockerPlatform,
    ExecResult,
    docker_memory,
    redact,
)
from drillbook.environments.docker._settings import LabSettings, parse_port_option

__all__ = [
    "DockerLab",
    "DockerPlatform",
    "ExecResult",
    "LabSettings",
    "Resource",
    "clean_leftovers",
    "docker_memory",
    "existing_lab",
    "lab_labels",
    "list_resources",
    "new_run_id",
    "parse_port_option",
    "redact",
    "select_for_clean",
    "select_for_down",
]

"""Labels on everything the Docker lab creates, and which leftovers each cleanup removes."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from drillbook.errors import ConfigError

__all__ = [
    "LABEL_LAB",
    "LABEL_MANAGED",
    "LABEL_PREVIOUS",
    "LABEL_REPLICA",
    "LABEL_REVISION",
    "LABEL_RUN",
    "LABEL_SERVICE",
    "Resource",
    "lab_labels",
    "new_run_id",
    "select_for_clean",
    "select_for_down",
    "validate_lab_name",
]

LABEL_MANAGED = "drillbook.managed"
LABEL_LAB = "drillbook.lab"
LABEL_RUN = "drillbook.run-id"
LABEL_SERVICE = "drillbook.service"
LABEL_REVISION = "drillbook.revision"  # the rollout revision of a service's container
LABEL_PREVIOUS = "drillbook.previous"  # the previous revision's env and memory (rollout undo)
LABEL_REPLICA = "drillbook.replica"  # extra replicas of a scaled service: 2, 3, ...

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


def validate_lab_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"lab name {name!r} is not valid",
            hint="use 1-31 lowercase letters, digits or '-', starting with a letter or digit",
        )
    return name


def new_run_id(now: float | None = None) -> str:
    """A sortable, unique run id: UTC time to the second plus 6 random hex digits."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
    return f"{stamp}-{secrets.token_hex(3)}"


def lab_labels(lab: str, run_id: str, service: str | None = None) -> dict[str, str]:
    labels = {LABEL_MANAGED: "true", LABEL_LAB: lab, LABEL_RUN: run_id}
    if service is not None:
        labels[LABEL_SERVICE] = service
    return labels


@dataclass(frozen=True)
class Resource:
    """A container, network or volume as seen in the engine, with its labels."""

    kind: Literal["container", "network", "volume"]
    name: str
    labels: Mapping[str, str]


def select_for_down(resources: Iterable[Resource], lab: str) -> list[Resource]:
    """``lab down``: everything labelled as belonging to the lab ``lab``, any run."""
    return _ordered(r for r in resources if _managed(r) and r.labels.get(LABEL_LAB) == lab)


def select_for_clean(resources: Iterable[Resource], lab: str | None = None) -> list[Resource]:
    """``lab clean``: whatever any drillbook run left behind (of one lab, if named)."""
    return _ordered(
        r for r in resources if _managed(r) and (lab is None or r.labels.get(LABEL_LAB) == lab)
    )


def _managed(resource: Resource) -> bool:
    return resource.labels.get(LABEL_MANAGED) == "true"


def _ordered(resources: Iterable[Resource]) -> list[Resource]:
    # containers hold networks and volumes, so they must go first
    rank = {"container": 0, "network": 1, "volume": 2}
    return sorted(resources, key=lambda r: (rank[r.kind], r.name))

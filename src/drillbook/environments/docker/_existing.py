"""A Docker lab that is already up (``drillbook lab up --name NAME``, or a test's), drilled as it
is: the command that uses it neither starts nor removes it (``--lab NAME``)."""

from __future__ import annotations

from collections.abc import Iterable

import docker

from drillbook.environments.docker._lab import DockerLab
from drillbook.environments.docker._settings import LabSettings
from drillbook.environments.services import resolve_services
from drillbook.errors import ConfigError

__all__ = ["existing_lab"]


def existing_lab(
    name: str,
    needs: Iterable[str] | None = None,
    *,
    client: docker.DockerClient | None = None,
    settings: LabSettings | None = None,
) -> DockerLab:
    """The running lab ``name``, once every service of ``needs`` (their dependencies too;
    None: every service ``drillbook lab up`` starts) is up and healthy.

    Raises :class:`ConfigError` naming the lab and how to start it when no lab of that name is
    up, or a service it needs is missing or unhealthy.
    """
    lab = DockerLab(settings or LabSettings(name=name), client=client)
    start = f"`drillbook lab up --name {name}`"
    if not lab.is_up():
        raise ConfigError(
            f"--lab {name}: no lab {name!r} is up",
            hint=f"start it with {start}, or leave out --lab to start a fresh one",
        )
    rows = {row.service: row for row in lab.status()}
    needed = tuple(needs) if needs else None
    wanted = [spec.name for spec in resolve_services(needed, lab.settings.catalog)]
    missing = [s for s in wanted if s not in rows]
    sick = [f"{s} {rows[s].detail}".rstrip() for s in wanted if s in rows and not rows[s].healthy]
    if missing or sick:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unhealthy: {'; '.join(sick)}"] if sick else []
        )
        raise ConfigError(
            f"--lab {name}: lab {name!r} is not ready ({'; '.join(problems)})",
            hint=f"`drillbook lab status --name {name}` shows it; `drillbook lab down --name "
            f"{name}` then {start} starts it afresh with every service",
        )
    return lab

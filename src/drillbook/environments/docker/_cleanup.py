"""Finding and removing what the Docker lab created, by label, a killed run's leftovers too."""

from __future__ import annotations

import docker
import docker.errors

from drillbook.environments.docker._labels import Resource, select_for_clean
from drillbook.errors import LabError

__all__ = ["clean_leftovers", "list_resources", "remove_resources"]


def list_resources(client: docker.DockerClient) -> list[Resource]:
    """Every container, network and volume in the engine that carries drillbook's labels."""
    flt = {"label": "drillbook.managed=true"}
    found: list[Resource] = []
    # sparse: one listing call, no per-container inspect that races a container
    # being removed while we look (a lab tearing down, another run's clean)
    found += [
        Resource("container", _sparse_name(c.attrs), c.attrs.get("Labels") or {})
        for c in client.containers.list(all=True, filters=flt, sparse=True)
    ]
    found += [
        Resource("network", n.name or "", n.attrs.get("Labels") or {})
        for n in client.networks.list(filters=flt)
    ]
    found += [
        Resource("volume", v.name or "", v.attrs.get("Labels") or {})
        for v in client.volumes.list(filters=flt)
    ]
    return found


def _sparse_name(attrs: dict[str, object]) -> str:
    names = attrs.get("Names")
    if isinstance(names, list) and names:
        return str(names[0]).lstrip("/")
    return str(attrs.get("Id", ""))


def clean_leftovers(client: docker.DockerClient, lab: str | None = None) -> list[Resource]:
    """``lab clean``: remove whatever any earlier run left behind, found by label."""
    return remove_resources(client, select_for_clean(list_resources(client), lab))


def remove_resources(client: docker.DockerClient, resources: list[Resource]) -> list[Resource]:
    removed: list[Resource] = []
    errors: list[str] = []
    for res in resources:
        try:
            if res.kind == "container":
                client.containers.get(res.name).remove(force=True, v=True)
            elif res.kind == "network":
                client.networks.get(res.name).remove()
            else:
                client.volumes.get(res.name).remove(force=True)
            removed.append(res)
        except docker.errors.NotFound:
            removed.append(res)  # already gone is what we wanted
        except docker.errors.APIError as exc:
            errors.append(f"{res.kind} {res.name}: {exc.explanation or exc}")
    if errors:
        raise LabError(
            "could not remove: " + "; ".join(errors),
            hint="run `drillbook lab clean` again; "
            "if a resource stays, remove it with the docker CLI",
        )
    return removed

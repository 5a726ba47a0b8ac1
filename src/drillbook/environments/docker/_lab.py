"""The Docker lab: the stack's services on one labelled Docker network, through testcontainers."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os

# Ryuk's image cannot be pulled here; the lab cleans up by its own labels instead
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

import secrets as _secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from drillbook.engine import docker_client
from drillbook.environments._health import look
from drillbook.environments._spec import ServiceSpec
from drillbook.environments.base import Endpoint, ServiceHandle, ServiceStatus
from drillbook.environments.docker._cleanup import list_resources, remove_resources
from drillbook.environments.docker._labels import (
    LABEL_LAB,
    LABEL_PREVIOUS,
    LABEL_REPLICA,
    LABEL_REVISION,
    LABEL_RUN,
    LABEL_SERVICE,
    Resource,
    lab_labels,
    new_run_id,
    select_for_down,
    validate_lab_name,
)
from drillbook.environments.docker._settings import LabSettings
from drillbook.environments.services import resolve_services, service
from drillbook.errors import ConfigError, LabError, PortInUseError, ServiceUnhealthy, WaitTimeout
from drillbook.images import RECIPES, ImageBuilder, get_recipe
from drillbook.waiting import Check, Wait

__all__ = ["DockerLab"]


class _Cancelled(BaseException):
    """Raised inside health waits when the start was aborted."""


class DockerLab:
    """A lab of containers under one name; a context manager that tears down a failed start.

    >>> with DockerLab(LabSettings(services=("postgres",))) as lab:
    ...     dsn = lab.services()["postgres"].url
    """

    def __init__(
        self, settings: LabSettings | None = None, *, client: docker.DockerClient | None = None
    ) -> None:
        self.settings = settings or LabSettings()
        validate_lab_name(self.settings.name)
        self._client = client or docker_client()
        self._run_id = ""
        self._cancel = threading.Event()

    # -- identity --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def run_id(self) -> str:
        if not self._run_id:
            containers = self._containers()
            self._run_id = containers[0].labels.get(LABEL_RUN, "") if containers else ""
        return self._run_id

    @property
    def client(self) -> docker.DockerClient:
        return self._client

    def container(self, service_name: str) -> Container:
        """The service's container, only if it carries this lab's labels.

        Faults and runbook verbs act through this, so they never touch a container that is not
        the lab's own (a same-named container of someone else's is refused unless forced).
        """
        name = self.settings.container_name(service_name)
        try:
            found = self._client.containers.get(name)
        except docker.errors.NotFound as exc:
            raise LabError(
                f"lab {self.name!r} has no container for {service_name!r} ({name})",
                hint="`drillbook lab status` shows what is up",
            ) from exc
        labels = found.labels or {}
        if labels.get(LABEL_LAB) != self.name and not self.settings.force:
            raise LabError(
                f"refusing to touch container {name!r}: it is not part of lab {self.name!r} "
                "(no drillbook labels)",
                hint="drills act only on their own lab; LabSettings(force=True) overrides this",
            )
        return found

    def is_up(self) -> bool:
        return bool(self._containers())

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> DockerLab:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, on_event: Callable[[str], None] | None = None) -> None:
        """Start every selected service and wait until each answers its own protocol.

        Raises :class:`LabError` (a lab of this name is up, a port is taken, a service stays
        unhealthy) or :class:`~drillbook.errors.ImageError`; whatever was created is removed.
        """
        say = on_event or (lambda _msg: None)
        existing = self._containers()
        if existing:
            raise LabError(
                f"lab {self.name!r} is already up (run {existing[0].labels.get(LABEL_RUN)})",
                hint="use it as it is (`drillbook lab status`), remove it with "
                "`drillbook lab down`, or start another with --name",
            )
        specs = resolve_services(self.settings.services, self.settings.catalog)
        builder = ImageBuilder(self._client)
        images = {s.name: self._image(builder, s) for s in specs}
        self._check_ports(specs)
        self._run_id = new_run_id()
        self._cancel.clear()
        generated = {k: _secrets.token_urlsafe(18) for s in specs for k in s.secrets}
        try:
            network = Network(docker_network_kw={"labels": lab_labels(self.name, self._run_id)})
            network.name = self.settings.network_name
            network.create()
            for wave in _waves(specs):
                for spec in wave:
                    say(f"starting {spec.name}")
                    env = spec.env_dict(generated) | self.settings.service_env(spec.name)
                    self._run(spec, images[spec.name], network, env)
                self._wait_healthy(wave, say)
        except BaseException:
            self._cancel.set()
            say("start failed: removing what was created")
            self.stop()
            raise

    def _image(self, builder: ImageBuilder, spec: ServiceSpec) -> str:
        """The image ``spec`` runs: its recipe's (the reference stack names recipes), else the
        image reference a Compose file gives (a ``build:`` context built first)."""
        if spec.build:
            context = (self.settings.project_root / spec.build).resolve()
            return builder.reference(
                spec.image, self.settings.image_source, build=context, who=spec.name
            )
        if any(r.name == spec.image for r in RECIPES):
            return builder.resolve(get_recipe(spec.image), self.settings.image_source)
        return builder.reference(spec.image, self.settings.image_source, who=spec.name)

    def recreate(
        self,
        service_name: str,
        *,
        env: Mapping[str, str | None] | None = None,
        mem_limit: str | None = None,
        wait: bool = True,
        exact_env: Mapping[str, str] | None = None,
        cpus: float | None = None,
    ) -> ServiceHandle:
        """Replace a service's container, as a rollout does: same image, network names, volumes
        and host ports, with ``env`` changes (``None`` unsets) and optionally a new memory limit
        or CPU limit (``cpus``, in cores; 0 removes it).

        This is how the Docker lab applies ``kubectl set env`` and ``kubectl patch`` resources.
        Each recreate is a new revision that remembers the previous one (:meth:`rollout_undo`);
        the service's extra replicas, if scaled, are replaced the same way.
        """
        spec = service(service_name, self.settings.catalog)
        old = self._client.containers.get(self.settings.container_name(spec.name))
        before = _env_of(old)
        current = dict(exact_env) if exact_env is not None else dict(before)
        for key, value in (env or {}).items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        ports = _host_ports(old, spec)
        image = old.attrs["Config"]["Image"]
        self._run_id = old.labels.get(LABEL_RUN, self.run_id)
        kept_memory = old.attrs["HostConfig"].get("Memory") or 0
        kept_cpus = int(old.attrs["HostConfig"].get("NanoCpus") or 0)
        nano_cpus = kept_cpus if cpus is None else int(cpus * 1e9)
        revision = {
            LABEL_REVISION: str(int(old.labels.get(LABEL_REVISION, "1")) + 1),
            LABEL_PREVIOUS: json.dumps(
                {"env": before, "memory": kept_memory, "nano_cpus": kept_cpus}
            ),
        }
        replicas = len(self._replicas(spec.name))
        # as a rollout does: SIGTERM and a grace period, then the new container
        with contextlib.suppress(docker.errors.APIError):
            old.stop(timeout=5)
        old.remove(force=True)
        network = Network()
        network.name = self.settings.network_name
        if mem_limit is not None or kept_memory:
            spec = dataclasses.replace(spec, mem_limit=mem_limit or str(kept_memory))
        self._run(
            spec,
            image,
            network,
            current,
            host_ports=ports,
            create_volumes=False,
            extra_labels=revision,
            nano_cpus=nano_cpus,
        )
        if wait:
            self._cancel.clear()
            self._wait_healthy([spec], lambda _msg: None)
        if replicas:
            self.scale(spec.name, 1 + replicas, wait=wait, fresh=True)
        return self.services()[spec.name]

    def unbind_volume(self, service_name: str, volume: str) -> str:
        """Replace the service's container with one whose ``volume`` cannot be provided (a local
        volume bound to a path that does not exist): the container is created and never runs,
        as a pod whose PVC is Pending. Returns the engine's error. :meth:`recreate` binds the
        real volume again; the data in it is untouched."""
        spec = service(service_name, self.settings.catalog)
        if volume not in {v.name for v in spec.volumes}:
            raise ConfigError(
                f"unbind_volume {service_name}: no volume {volume!r}",
                hint=f"its volumes are: {', '.join(v.name for v in spec.volumes) or 'none'}",
            )
        old = self._client.containers.get(self.settings.container_name(spec.name))
        env, image, ports = _env_of(old), old.attrs["Config"]["Image"], _host_ports(old, spec)
        labels = {LABEL_REVISION: str(int(old.labels.get(LABEL_REVISION, "1")) + 1)}
        with contextlib.suppress(docker.errors.APIError):
            old.stop(timeout=5)
        old.remove(force=True)
        unprovided = self.settings.volume_name(f"{volume}-unprovided")
        with contextlib.suppress(docker.errors.NotFound):
            self._client.volumes.get(unprovided).remove(force=True)
        self._client.volumes.create(
            name=unprovided,
            driver="local",
            driver_opts={"type": "none", "o": "bind", "device": f"/nonexistent/{unprovided}"},
            labels=lab_labels(self.name, self.run_id, spec.name),
        )
        network = Network()
        network.name = self.settings.network_name
        try:
            self._run(
                spec,
                image,
                network,
                env,
                host_ports=ports,
                create_volumes=False,
                extra_labels=labels,
                volume_names={volume: unprovided},
            )
        except LabError as exc:
            return str(exc)
        raise LabError(f"{spec.name} started on a volume that cannot be provided ({unprovided})")

    def route_service(self, service_name: str, *, routed: bool) -> None:
        """Whether the service's network names (its Kubernetes Service, e.g. backend-service)
        lead to its container. ``routed=False`` is the runbook's selector patched to an app
        that does not exist: peers stop reaching it by that name; the container keeps its plain
        service name. A rollout (:meth:`recreate`, :meth:`scale`) routes it again."""
        spec = service(service_name, self.settings.catalog)
        container = self.container(spec.name)
        network = self._client.networks.get(self.settings.network_name)
        network.disconnect(container)
        network.connect(container, aliases=[spec.name, *spec.aliases] if routed else [spec.name])

    def rollout_undo(self, service_name: str, *, wait: bool = True) -> ServiceHandle:
        """``kubectl rollout undo``: back to the previous revision's environment, memory and CPU
        limits (itself a new revision, so a second undo goes forward again)."""
        old = self.container(service_name)
        raw = old.labels.get(LABEL_PREVIOUS)
        if not raw:
            raise LabError(
                f"service {service_name!r} has no previous revision to roll back to",
                hint="it has not been changed (set env, patched, restarted) since the lab started",
            )
        previous = json.loads(raw)
        memory = int(previous.get("memory") or 0)
        return self.recreate(
            service_name,
            exact_env=previous["env"],
            mem_limit=str(memory),  # "0": no limit, as before
            cpus=int(previous.get("nano_cpus") or 0) / 1e9,
            wait=wait,
        )

    def revision(self, service_name: str) -> int:
        return int(self.container(service_name).labels.get(LABEL_REVISION, "1"))

    def scale(
        self, service_name: str, replicas: int, *, wait: bool = True, fresh: bool = False
    ) -> int:
        """``kubectl scale --replicas=N``: 0 stops the service's container; N runs it and N-1
        extra replicas behind the same network names (the lab's DNS answers with all of them).
        Extra replicas publish no host port. Returns the number of running replicas."""
        if not 0 <= replicas <= 10:
            raise ConfigError(f"scale {service_name} to {replicas}: expected 0 to 10 replicas")
        spec = service(service_name, self.settings.catalog)
        if replicas > 1 and spec.volumes:
            raise ConfigError(
                f"scale {service_name} to {replicas}: it keeps its data in a volume, so the lab "
                "runs one replica (a StatefulSet would give each replica its own volume)"
            )
        primary = self.container(service_name)
        extras = self._replicas(spec.name)
        if replicas == 0:
            for extra in extras:
                extra.remove(force=True)
            primary.reload()
            if primary.status in ("running", "paused", "restarting"):
                primary.stop(timeout=5)
            return 0
        primary.reload()
        if primary.status != "running":
            primary.start()
            if wait:
                self._cancel.clear()
                self._wait_healthy([spec], lambda _msg: None)
        keep = [] if fresh else extras[: replicas - 1]
        for extra in extras:
            if extra not in keep:
                extra.remove(force=True)
        env = _env_of(primary)
        image = primary.attrs["Config"]["Image"]
        memory = primary.attrs["HostConfig"].get("Memory") or 0
        if memory:
            spec = dataclasses.replace(spec, mem_limit=str(memory))
        network = Network()
        network.name = self.settings.network_name
        for index in range(len(keep) + 2, replicas + 1):
            self._run(
                spec,
                image,
                network,
                env,
                create_volumes=False,
                name=f"{self.settings.container_name(spec.name)}-r{index}",
                publish=False,
                extra_labels={LABEL_REPLICA: str(index)},
            )
        return replicas

    def replicas(self, service_name: str) -> int:
        """Running replicas of a service: its container and any extra ones."""
        primary = self.container(service_name)
        running = [c for c in [primary, *self._replicas(service_name)] if c.status == "running"]
        return len(running)

    def stop(self) -> list[Resource]:
        """Remove every container, network and volume labelled with this lab's name."""
        return remove_resources(
            self._client, select_for_down(list_resources(self._client), self.name)
        )

    # -- inspection ------------------------------------------------------------------------
    def services(self) -> dict[str, ServiceHandle]:
        """Typed handles to the running services, keyed by service name."""
        handles: dict[str, ServiceHandle] = {}
        for container in self._containers():
            if LABEL_REPLICA in container.labels:
                continue
            spec = service(container.labels[LABEL_SERVICE], self.settings.catalog)
            handles[spec.name] = _handle(container, spec)
        return handles

    def status(self) -> list[ServiceStatus]:
        rows: list[ServiceStatus] = []
        for container in self._containers():
            spec = service(container.labels[LABEL_SERVICE], self.settings.catalog)
            if LABEL_REPLICA in container.labels:
                name = f"{spec.name}#{container.labels[LABEL_REPLICA]}"
                rows.append(
                    ServiceStatus(
                        name,
                        container.name or "",
                        container.status,
                        container.status == "running",
                        "replica",
                        "",
                    )
                )
                continue
            handle = _handle(container, spec)
            healthy, detail = container.status == "running", container.status
            endpoint = ""
            if spec.health is not None and handle.endpoints:
                ep = handle.endpoint(spec.health.port)
                endpoint = ep.address
                if healthy:
                    check = look(spec.health, ep.url, ep.host, ep.port, timeout_s=2.0)
                    healthy, detail = check.ok, check.detail
            rows.append(
                ServiceStatus(
                    spec.name, container.name, container.status, healthy, detail, endpoint
                )
            )
        return rows

    # -- internals -------------------------------------------------------------------------
    def _containers(self) -> list[Container]:
        # a container removed between the listing and its inspection (a rollout replacing it
        # at that instant) is left out, not an error: the caller sees the lab as it is now
        found = self._client.containers.list(
            all=True, filters={"label": f"{LABEL_LAB}={self.name}"}, ignore_removed=True
        )
        return sorted(found, key=lambda c: c.labels.get(LABEL_SERVICE, ""))

    def _replicas(self, service_name: str) -> list[Container]:
        found = self._client.containers.list(
            all=True,
            filters={"label": [f"{LABEL_LAB}={self.name}", f"{LABEL_SERVICE}={service_name}"]},
            ignore_removed=True,
        )
        extras = [c for c in found if LABEL_REPLICA in c.labels]
        return sorted(extras, key=lambda c: int(c.labels[LABEL_REPLICA]))

    def _check_ports(self, specs: list[ServiceSpec]) -> None:
        for spec in specs:
            for port in spec.ports:
                fixed = self.settings.host_port(spec, port.name)
                if fixed is not None and not _port_free(fixed):
                    raise PortInUseError(spec.name, fixed)

    def _run(
        self,
        spec: ServiceSpec,
        image: str,
        network: Network,
        env: Mapping[str, str],
        *,
        host_ports: Mapping[str, int] | None = None,
        create_volumes: bool = True,
        name: str | None = None,
        publish: bool = True,
        extra_labels: Mapping[str, str] | None = None,
        volume_names: Mapping[str, str] | None = None,
        nano_cpus: int = 0,
    ) -> None:
        labels = {**lab_labels(self.name, self._run_id, spec.name), **(extra_labels or {})}
        container = DockerContainer(
            image,
            name=name or self.settings.container_name(spec.name),
            network=network,
            network_aliases=[spec.name, *spec.aliases],
            command=list(spec.command) or None,  # type: ignore[arg-type]
            entrypoint=list(spec.entrypoint) or None,
            working_dir=spec.working_dir or None,
            user=spec.user or None,
            env=dict(env),
            labels=labels,
            cap_add=list(spec.cap_add) or None,
            mem_limit=spec.mem_limit,
            nano_cpus=nano_cpus or None,
        )
        for port in spec.ports if publish else ():
            fixed = (host_ports or {}).get(port.name) or self.settings.host_port(spec, port.name)
            # an explicit port, not the engine's pick: a restarted container keeps its endpoint
            binding = ("127.0.0.1", fixed or _free_port())
            container.ports[f"{port.container_port}/tcp"] = binding  # type: ignore[assignment]
        for vol in spec.volumes:
            name = (volume_names or {}).get(vol.name) or self.settings.volume_name(vol.name)
            if create_volumes:
                labels_v = lab_labels(self.name, self._run_id, spec.name)
                self._client.volumes.create(name=name, labels=labels_v)
            container.with_volume_mapping(name, vol.target, "rw")
        for mount in spec.mounts:
            source = (self.settings.project_root / mount.source).resolve()
            container.with_volume_mapping(
                str(source), mount.target, "ro" if mount.read_only else "rw"
            )
        try:
            container.start()
        except docker.errors.APIError as exc:
            text = str(exc)
            if "port is already allocated" in text or "address already in use" in text:
                fixed = next(
                    (
                        self.settings.host_port(spec, p.name)
                        for p in spec.ports
                        if self.settings.host_port(spec, p.name)
                    ),
                    0,
                )
                raise PortInUseError(spec.name, fixed or 0) from exc
            raise LabError(
                f"could not start service {spec.name!r}: {exc.explanation or exc}"
            ) from exc

    def _wait_healthy(self, wave: list[ServiceSpec], say: Callable[[str], None]) -> None:
        handles = self.services()

        def sleep(seconds: float) -> None:
            if self._cancel.wait(seconds):
                raise _Cancelled

        def wait_one(spec: ServiceSpec) -> None:
            if spec.health is None:
                return
            ep = (
                handles[spec.name].endpoint(spec.health.port)
                if spec.health.kind != "command"
                else None
            )
            timeout = self.settings.startup_timeout_s or spec.health.timeout_s
            wait = Wait(timeout_s=timeout, poll_s=spec.health.poll_s, sleep=sleep)
            started = time.monotonic()

            def elapsed() -> float:
                return round(time.monotonic() - started, 1)

            try:
                wait.until(lambda: self._look(spec), f"{spec.name} to answer")
            except WaitTimeout as exc:
                logs = self._logs(spec)
                raise ServiceUnhealthy(spec.name, elapsed(), exc.observed, logs) from exc
            if ep is None:
                say(f"{spec.name} healthy (`{' '.join(spec.health.command)}` exited 0)")
            else:
                say(f"{spec.name} healthy at {ep.display_url}")

        with ThreadPoolExecutor(max_workers=max(1, len(wave))) as pool:
            futures = [pool.submit(wait_one, s) for s in wave]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                self._cancel.set()
                raise

    def _look(self, spec: ServiceSpec) -> Check:
        assert spec.health is not None
        container = self._client.containers.get(self.settings.container_name(spec.name))
        if container.status not in ("running", "created"):
            code = container.attrs.get("State", {}).get("ExitCode")
            return Check(False, f"container {container.status} (exit code {code})", final=True)
        return self.look(spec.name)

    def look(self, service_name: str, timeout_s: float = 2.0) -> Check:
        """One look at the service through the health check its spec declares: its protocol
        on its published port, or its ``command`` run inside the container (exit 0 is
        healthy). Never raises for an unhealthy or missing service."""
        spec = service(service_name, self.settings.catalog)
        if spec.health is None:
            return Check(False, f"{service_name} declares no health check", final=True)
        if spec.health.kind == "command":
            return self._look_command(spec, spec.health.command, timeout_s)
        try:
            ep = self.services()[service_name].endpoint(spec.health.port)
        except (KeyError, LabError) as exc:
            return Check(False, f"{service_name}: {exc}")
        return look(spec.health, ep.url, ep.host, ep.port, timeout_s=timeout_s)

    def _look_command(self, spec: ServiceSpec, argv: tuple[str, ...], timeout_s: float) -> Check:
        shown = " ".join(argv)
        try:
            container = self._client.containers.get(self.settings.container_name(spec.name))
        except docker.errors.DockerException as exc:
            return Check(False, f"{spec.name}: {type(exc).__name__}: {exc}")
        if container.status != "running":
            return Check(False, f"container {container.status}")
        # a hung check is a failed one: the look gives up after timeout_s (the image may
        # have no `timeout` binary to bound it inside the container)
        answer: list[Any] = []

        def run() -> None:
            try:
                answer.append(container.exec_run(list(argv)))
            except docker.errors.DockerException as exc:
                answer.append(exc)

        worker = threading.Thread(target=run, name=f"health-{spec.name}", daemon=True)
        worker.start()
        worker.join(max(timeout_s, 1.0))
        if not answer:
            return Check(False, f"`{shown}` did not exit within {timeout_s:g}s")
        if isinstance(answer[0], Exception):
            return Check(False, f"`{shown}`: {type(answer[0]).__name__}: {answer[0]}")
        code, out = answer[0]
        text = (out or b"").decode(errors="replace").strip().splitlines()
        last = f": {text[-1][:200]}" if text else ""
        return Check(code == 0, f"`{shown}` exited {code}{last}")

    def _logs(self, spec: ServiceSpec) -> str:
        try:
            raw = self._client.containers.get(self.settings.container_name(spec.name)).logs(tail=30)
        except docker.errors.DockerException:
            return ""
        return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _waves(specs: list[ServiceSpec]) -> list[list[ServiceSpec]]:
    """Group services so each starts after its dependencies are healthy."""
    level: dict[str, int] = {}
    for spec in specs:  # specs arrive dependencies-first
        level[spec.name] = 1 + max((level[d] for d in spec.depends_on), default=-1)
    waves: list[list[ServiceSpec]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for spec in specs:
        waves[level[spec.name]].append(spec)
    return waves


def _env_of(container: Container) -> dict[str, str]:
    return dict(
        item.split("=", 1) for item in container.attrs["Config"]["Env"] or [] if "=" in item
    )


def _host_ports(container: Container, spec: ServiceSpec) -> dict[str, int]:
    """The host ports a container publishes, from its live bindings or, for one that is not
    running, from its configuration."""
    live = container.attrs["NetworkSettings"]["Ports"] or {}
    configured = container.attrs["HostConfig"].get("PortBindings") or {}
    ports = {}
    for p in spec.ports:
        bindings = live.get(f"{p.container_port}/tcp") or configured.get(f"{p.container_port}/tcp")
        if bindings and bindings[0].get("HostPort"):
            ports[p.name] = int(bindings[0]["HostPort"])
    return ports


def _handle(container: Container, spec: ServiceSpec) -> ServiceHandle:
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"] or [] if "=" in item)
    masked = {**env, **{k: "***" for k in spec.secrets if k in env}}
    ports = container.attrs["NetworkSettings"]["Ports"] or {}
    endpoints: dict[str, Endpoint] = {}
    for port in spec.ports:
        bindings = ports.get(f"{port.container_port}/tcp") or []
        if not bindings:
            continue
        host, host_port = "127.0.0.1", int(bindings[0]["HostPort"])
        endpoints[port.name] = Endpoint(
            name=port.name,
            host=host,
            port=host_port,
            container_port=port.container_port,
            url=_format(port.url, env, host, host_port),
            display_url=_format(port.url, masked, host, host_port),
        )
    return ServiceHandle(
        name=spec.name,
        container_id=container.id or "",
        container_name=container.name or "",
        image=container.attrs["Config"]["Image"],
        aliases=(spec.name, *spec.aliases),
        endpoints=endpoints,
    )


def _format(template: str, env: Mapping[str, str], host: str, port: int) -> str:
    try:
        return template.format(**env, host=host, port=port)
    except KeyError:
        return f"tcp://{host}:{port}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True

"""Platform verbs on the Docker lab: what a runbook step does, in Docker terms.

``kubectl rollout restart`` is a recreate of the container; ``kubectl set env`` and
``kubectl patch ... resources`` recreate it with the change; ``kubectl delete pod`` kills it
and starts it again as a controller would; ``kubectl exec`` is ``docker exec``;
``kubectl scale`` stops the container (0) or adds replicas behind the same network names;
``kubectl rollout undo`` returns to the previous revision; a rotated secret reaches its
consumers through a rollout.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from drillbook.environments.base import ExecResult, ServiceHandle
from drillbook.environments.docker._lab import DockerLab, _env_of
from drillbook.errors import ConfigError, LabError

__all__ = ["SECRETS", "DockerPlatform", "ExecResult"]

# the Kubernetes Secrets of the runbook (fixtures/k8s) as the Docker lab holds them: the
# environment variables each carries and the services that read them
SECRETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "exchange-api-secrets": (
        (
            "BINANCE_API_KEY",
            "BINANCE_API_SECRET",
            "KUCOIN_API_KEY",
            "KUCOIN_API_SECRET",
            "KUCOIN_API_PASSPHRASE",
        ),
        ("backend",),
    ),
}


_SECRET_KEY = re.compile(r"KEY|SECRET|PASS|TOKEN|URL|DSN|ACCOUNTS|DATA_SOURCE", re.IGNORECASE)


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each of ``secrets`` (longest first) replaced by ``[REDACTED]``."""
    for value in sorted(secrets, key=len, reverse=True):
        if value:
            text = text.replace(value, "[REDACTED]")
    return text


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|m|g|K|M|G|b)?$")


def docker_memory(quantity: str) -> str:
    """A memory limit as Docker takes it, from a Kubernetes quantity (``4Gi`` -> ``4g``,
    ``48Mi`` -> ``48m``) or a Docker one (``4g``) unchanged."""
    match = _QUANTITY.match(quantity.strip())
    if match is None:
        raise ConfigError(
            f"memory limit {quantity!r}: expected a quantity such as 4Gi, 512Mi or 4g"
        )
    number, unit = match.groups()
    return number + {"Ki": "k", "Mi": "m", "Gi": "g", "K": "k", "M": "m", "G": "g"}.get(
        unit or "", unit or ""
    )


class DockerPlatform:
    """The :class:`~drillbook.environments.base.Platform` verbs on containers, plus the
    Docker lab's own (``rotate_secret``, ``patch_service_selector``, backups)."""

    tier: Literal["docker"] = "docker"

    def __init__(self, lab: DockerLab, *, evidence_dir: Path | None = None) -> None:
        self.lab = lab
        # where "capture evidence" steps write (reports/<run-id>/evidence/ in a CLI run)
        self.evidence_dir = evidence_dir
        self._remembered: dict[str, dict[str, Any]] = {}

    def runs_processes(self) -> bool:
        """Containers are processes: exec, logs and SQL always run."""
        return True

    def logs(self, service: str, *, tail: int = 2000) -> str:
        """``kubectl logs deployment/<service>``: the container's recent output."""
        out = self._container(service).logs(tail=tail, timestamps=True)
        return out.decode(errors="replace") if isinstance(out, bytes) else str(out)

    def save_evidence(self, name: str, text: str) -> Path:
        """Write ``text`` under the evidence directory as ``name`` with every secret value of
        the lab's services (keys, passwords, URLs with credentials) replaced by ``[REDACTED]``."""
        import tempfile

        if self.evidence_dir is None:
            self.evidence_dir = Path(tempfile.mkdtemp(prefix="drillbook-evidence-"))
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        path = self.evidence_dir / Path(name).name
        path.write_text(redact(text, self._secret_values()))
        return path

    def _secret_values(self) -> list[str]:
        values: set[str] = set()
        for service in self.lab.services():
            try:
                env = self._container(service).attrs["Config"]["Env"] or []
            except LabError:
                continue
            for item in env:
                key, _, value = item.partition("=")
                if _SECRET_KEY.search(key) and len(value) >= 4:
                    values.add(value)
        return sorted(values, key=len, reverse=True)

    def _container(self, service: str) -> Any:
        return self.lab.container(service)

    def restart(self, service: str) -> ServiceHandle:
        """``kubectl rollout restart``: a fresh container with the same configuration."""
        return self.lab.recreate(service)

    def set_env(
        self, service: str, env: Mapping[str, str | None], *, wait: bool = True
    ) -> ServiceHandle:
        """``kubectl set env``: a rollout with ``env`` changed (``None`` unsets); ``wait=False``
        returns once the new container runs, healthy or not (a change that makes the service
        unhealthy on purpose)."""
        return self.lab.recreate(service, env=env, wait=wait)

    def patch_resources(
        self, service: str, memory: str | None = None, *, cpus: float | None = None
    ) -> ServiceHandle:
        """``kubectl patch deployment ... resources.limits``: a rollout with a new memory limit
        ("4g") and/or CPU limit (cores)."""
        if memory is None and cpus is None:
            raise ConfigError(f"patch_resources {service}: give memory, cpus or both")
        limit = docker_memory(memory) if memory is not None else None
        return self.lab.recreate(service, mem_limit=limit, cpus=cpus)

    def wait_ready(self, service: str, timeout_s: float = 120) -> None:
        """``kubectl wait --for=condition=ready``: the service's health check passes."""
        from drillbook.waiting import Wait

        Wait(timeout_s=timeout_s, poll_s=0.25).until(
            lambda: self.lab.look(service), f"{service} to be healthy"
        )

    def wait_rollout(self, service: str, timeout_s: float = 120) -> None:
        """``kubectl rollout status``: one container per revision, so its health is enough."""
        self.wait_ready(service, timeout_s)

    def remember(self, service: str) -> None:
        """Its environment, memory and CPU limits and replicas, for :meth:`restore`."""
        container = self._container(service)
        container.reload()
        host = container.attrs["HostConfig"]
        self._remembered[service] = {
            "env": _env_of(container),
            "memory": int(host.get("Memory") or 0),
            "nano_cpus": int(host.get("NanoCpus") or 0),
            "replicas": self.lab.replicas(service),
        }

    def restore(self, service: str) -> None:
        """What :meth:`remember` saved, by a rollout when the configuration changed since and a
        scale when the replicas did; nothing when nothing was remembered."""
        saved = self._remembered.pop(service, None)
        if saved is None:
            return
        container = self._container(service)
        container.reload()
        host = container.attrs["HostConfig"]
        now = (_env_of(container), int(host.get("Memory") or 0), int(host.get("NanoCpus") or 0))
        if now != (saved["env"], saved["memory"], saved["nano_cpus"]):
            self.lab.recreate(
                service,
                exact_env=saved["env"],
                mem_limit=str(saved["memory"]),  # "0": no limit, as remembered
                cpus=saved["nano_cpus"] / 1e9,
            )
        if self.lab.replicas(service) != saved["replicas"]:
            self.lab.scale(service, saved["replicas"])

    def describe(self, service: str) -> str:
        """``kubectl describe pod``: the container's state, whether the kernel OOM-killed it,
        its exit code, restarts and memory limit."""
        container = self._container(service)
        container.reload()
        state, host = container.attrs["State"], container.attrs["HostConfig"]
        last = "OOMKilled" if state.get("OOMKilled") else (state.get("Error") or "")
        return (
            f"{container.name}\tready={self.lab.look(service).ok}"
            f"\trestarts={container.attrs.get('RestartCount', 0)}"
            f"\tstate={container.status}\tlast={last} (exit {state.get('ExitCode')})"
            f"\tlimits={{'memory': {host.get('Memory') or 0}}}\n"
        )

    def scale(self, service: str, replicas: int) -> int:
        """``kubectl scale --replicas=N``: 0 stops it; N>1 adds replicas behind its names."""
        return self.lab.scale(service, replicas)

    def patch_service_selector(self, service: str, app: str) -> None:
        """``kubectl patch service <service>-service -p '{"spec":{"selector":{"app":APP}}}'``:
        with ``app`` other than ``service`` its Service routes nowhere (stop accepting new
        requests); with ``app == service`` it routes to it again."""
        self.lab.route_service(service, routed=app == service)

    def rollout_undo(self, service: str) -> ServiceHandle:
        """``kubectl rollout undo``: the previous revision's environment and memory limit."""
        return self.lab.rollout_undo(service)

    def rotate_secret(
        self, secret: str, values: Mapping[str, str], *, wait: bool = True
    ) -> list[ServiceHandle]:
        """``kubectl create secret ... --dry-run -o yaml | kubectl apply`` then a rollout restart
        of every service that reads it: the new values reach them as environment. Values are
        never printed; only keys of ``secret`` are accepted."""
        if secret not in SECRETS:
            raise ConfigError(
                f"unknown secret {secret!r}", hint=f"the lab's secrets are: {', '.join(SECRETS)}"
            )
        keys, consumers = SECRETS[secret]
        unknown = sorted(set(values) - set(keys))
        if unknown or not values:
            raise ConfigError(
                f"rotate_secret {secret}: {', '.join(unknown) or 'no key given'}",
                hint=f"its keys are: {', '.join(keys)}",
            )
        return [self.lab.recreate(name, env=dict(values), wait=wait) for name in consumers]

    def delete_pod(self, service: str) -> None:
        """Kill the container and start it again, as the Deployment's controller would."""
        container = self._container(service)
        container.reload()
        if container.status in ("running", "paused"):
            container.kill()
        container.start()

    def start(self, service: str) -> None:
        self._container(service).start()

    def exec(self, service: str, argv: Sequence[str], *, check: bool = True) -> ExecResult:
        code, out = self._container(service).exec_run(list(argv))
        text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
        if check and code != 0:
            raise LabError(f"`{' '.join(argv)}` in {service} exited {code}: {text.strip()[-500:]}")
        return ExecResult(int(code), text)

    def sql(
        self, query: str, params: Sequence[Any] | None = None, *, service: str = "postgres"
    ) -> list[tuple[Any, ...]]:
        """``query`` on the PostgreSQL service (``postgres`` unless a project names another)."""
        import psycopg

        with psycopg.connect(self.lab.services()[service].url, connect_timeout=5) as conn:
            cur = conn.execute(query, params)
            return list(cur.fetchall()) if cur.description else []

    def http(
        self,
        service: str,
        port: int,
        path: str,
        *,
        method: str = "GET",
        body: Any = None,
        timeout_s: float = 10.0,
    ) -> tuple[int, Any]:
        """``curl localhost:<port><path>`` as the service sees it: through the host port the
        lab publishes for its container port ``port``. Status 0 when nothing answers."""
        handle = self.lab.services()[service]
        for name, endpoint in handle.endpoints.items():
            if endpoint.container_port == port:
                try:
                    return self.http_call(
                        service, name, path, method=method, body=body, timeout_s=timeout_s
                    )
                except (urllib.error.URLError, OSError) as exc:
                    return 0, str(exc)
        raise LabError(
            f"{service} publishes no port {port}",
            hint="its ports: "
            + ", ".join(f"{n}={e.container_port}" for n, e in handle.endpoints.items()),
        )

    def http_call(
        self,
        service: str,
        port: str,
        path: str,
        *,
        method: str = "GET",
        body: Any = None,
        timeout_s: float = 10.0,
    ) -> tuple[int, Any]:
        """``service``'s ``port`` at ``path``: (status, the JSON body, or the text when it is
        not JSON). An error status still returns its body (a 503 /health says why)."""
        url = self.lab.services()[service].endpoint(port).url + path
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # loopback only
                raw, status = resp.read().decode(), int(resp.status)
        except urllib.error.HTTPError as exc:
            raw, status = exc.read().decode(), exc.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw

    def list_backups(self) -> str:
        """``restore.sh --list`` in the backup service: newest first, each line ``<path> ...
        verified`` for a backup the backup job verified."""
        return self.exec("backup", ["/app/scripts/restore.sh", "--list"]).output

    def create_backup(self, name: str) -> str:
        """A backup now (the runbook's emergency backup): the path it was written to."""
        out = self.exec("backup", ["python3", "-m", "backup", "create", name]).output
        return out.split("backup written: ", 1)[1].split()[0]

    def restore_backup(self, path: str) -> str:
        """``restore.sh --file <path>`` in the backup service: its output."""
        return self.exec("backup", ["/app/scripts/restore.sh", "--file", path]).output

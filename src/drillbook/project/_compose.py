"""A Compose file as the Docker lab's :class:`ServiceSpec` values (the lab of a drill project).

The choice, written down: drillbook reads the Compose file itself rather than handing it to
``docker compose`` (testcontainers' ``DockerCompose`` shells out to the Compose CLI plugin).
The lab must own every container it starts: its labels (so ``drillbook lab down``, the residue
check and ``drillbook clean`` find them), loopback-only published ports chosen free (so labs run
side by side), generated secrets, and the per-container verbs faults and runbook steps use
(recreate with new env, scale, partition). Reading the file into ``ServiceSpec`` values gives
all of that to a user's services with no second lab implementation; what the lab cannot honour
is refused with its line, never dropped silently.

What is read, per service: ``image`` (a drillbook image by name, ``postgres:TAG``/``redis:TAG``/
``rabbitmq:TAG``/``python:TAG`` run the local recipes since there is no registry here, or any
image the engine has), ``build`` (a context directory, built at lab start), ``command``,
``entrypoint``, ``environment``, ``env_file``, ``ports`` and ``expose`` (published on 127.0.0.1 at
free ports; the host port written in the file is not used), ``volumes`` (named volumes, and bind
mounts inside the project directory), ``depends_on``, ``healthcheck``, ``cap_add``,
``mem_limit``, ``working_dir``, ``user``. Accepted and without effect in the lab (it puts every
service on one network under its own name): ``restart``, ``networks``, ``container_name``,
``hostname``, ``labels``, ``logging``, ``stop_grace_period``, ``stop_signal``, ``tty``,
``stdin_open``, ``init``, ``platform``, ``pull_policy``. Anything else is an error naming it.

Interpolation as Compose does it (``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?message}``, ``$VAR``, ``$$``) but never from the shell running drillbook, so a drill runs
the same everywhere: a variable is either one of the project's ``secrets:`` (generated per lab
run, passed only to the services listed, never printed) or has a default in the file.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from drillbook._yaml import NULL, Reader, kind, read_yaml
from drillbook.environments._spec import HealthCheck, MountSpec, PortSpec, ServiceSpec, VolumeSpec
from drillbook.errors import ConfigError
from drillbook.images import recipe_for_reference
from drillbook.project._model import HealthSpec

__all__ = ["read_compose"]

_READ = (
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "depends_on",
    "healthcheck",
    "cap_add",
    "mem_limit",
    "working_dir",
    "user",
)
_NO_EFFECT = (
    "restart",
    "networks",
    "container_name",
    "hostname",
    "labels",
    "logging",
    "stop_grace_period",
    "stop_signal",
    "tty",
    "stdin_open",
    "init",
    "platform",
    "pull_policy",
)
_TOP = ("volumes", "networks", "name", "version")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>\{[^}]*\}?)|(?P<lone>))"
)
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|ms|m|s|us))+$")


def read_compose(
    path: Path,
    root: Path,
    *,
    project: str,
    secrets: dict[str, tuple[str, ...]] | None = None,
    health: tuple[HealthSpec, ...] = (),
) -> tuple[ServiceSpec, ...]:
    """The services of the Compose file at ``path`` as lab specs. ``root`` is the project
    directory (bind mounts must stay inside it), ``secrets`` the project's generated variables
    (name -> the services that get it), ``health`` the project's checks, which take precedence
    over a ``healthcheck:``. Raises :class:`ConfigError` ``FILE:LINE: field: expected``."""
    node = read_yaml(path, "Compose file")
    reader = Reader(path)
    if node is None:
        reader.fail(None, "compose", "the file is empty; expected services:")
    top = _mapping(reader, node, "compose", ("services",), _TOP)
    declared = set()
    if "volumes" in top and not _null(top["volumes"][1]):
        vols = top["volumes"][1]
        if not isinstance(vols, MappingNode):
            reader.fail(vols, "volumes", f"expected a mapping of volume names, got {kind(vols)}")
        declared = {reader.text(k, "volumes") for k, _ in vols.value}
    services = top["services"][1]
    if not isinstance(services, MappingNode) or not services.value:
        reader.fail(services, "services", f"expected a mapping of services, got {kind(services)}")
    names = [reader.text(k, "services") for k, _ in services.value]
    ctx = _Ctx(reader, path, root, project, secrets or {}, {h.service: h for h in health})
    specs = []
    for key, value in services.value:
        name = reader.text(key, "services")
        if not _NAME.match(name):
            reader.fail(key, f"services.{name}", "expected a name of letters, digits, _ . -")
        specs.append(ctx.service(name, value, names, declared))
    return tuple(specs)


def _null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL


def _mapping(
    reader: Reader, node: Node, where: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, tuple[Node, Node]]:
    """Like Reader.mapping, with Compose's ``x-`` extension fields allowed and skipped."""
    if isinstance(node, MappingNode):
        node = MappingNode(
            node.tag,
            [
                (k, v)
                for k, v in node.value
                if not (isinstance(k, ScalarNode) and str(k.value).startswith("x-"))
            ],
            node.start_mark,
            node.end_mark,
        )
    return reader.mapping(node, where, required, optional)


class _Ctx:
    def __init__(
        self,
        reader: Reader,
        path: Path,
        root: Path,
        project: str,
        secrets: dict[str, tuple[str, ...]],
        health: dict[str, HealthSpec],
    ) -> None:
        self.reader, self.path, self.root, self.project = reader, path, root, project
        self.secrets, self.health = secrets, health

    # -- values -----------------------------------------------------------------------------
    def scalar(self, node: Node, where: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag == NULL:
            self.reader.fail(node, where, f"expected a text or a number, got {kind(node)}")
        return str(node.value)

    def interpolate(self, node: Node, where: str, *, secrets_ok: bool = False) -> str:
        """The value with Compose's variables resolved; a project secret stays ``${NAME}``
        for the lab to fill per run (where ``secrets_ok``), a literal ``$`` becomes ``$$``."""
        raw = self.scalar(node, where)

        def one(m: re.Match[str]) -> str:
            if m["escaped"] or m["lone"] is not None:  # a literal $ ($$, or $ before no name)
                return "$$" if secrets_ok else "$"
            if m["bad"] is not None:
                self.reader.fail(node, where, f"malformed variable ${m['bad']}")
            var = m["braced"] or m["plain"]
            if var in self.secrets:
                if not secrets_ok:
                    self.reader.fail(
                        node,
                        where,
                        f"the generated secret ${{{var}}} can be used in environment: only",
                        hint=f"pass it as an environment variable and read it there (${var})",
                    )
                return "${" + var + "}"
            op, arg = m["op"], m["arg"] or ""
            if "${" in arg:
                self.reader.fail(
                    node,
                    where,
                    f"a nested default (${{{var}{op}${{...}}}}) is not supported",
                    hint="give one default value, or list the variable under secrets:",
                )
            if op in (":?", "?"):
                self.reader.fail(node, where, f"${{{var}}} is required: {arg or 'not set'}")
            if op is None:
                self.reader.fail(
                    node,
                    where,
                    f"variable ${{{var}}} is not set: drillbook does not read the shell's "
                    "environment (a drill must run the same everywhere)",
                    hint=f"list {var} under secrets: in drillbook.yaml (generated per run) or "
                    f"give a default: ${{{var}:-value}}",
                )
            return arg.replace("$", "$$") if secrets_ok else arg

        return _VAR.sub(one, raw)

    def argv(self, node: Node, where: str) -> tuple[str, ...]:
        if isinstance(node, SequenceNode):
            return tuple(self.interpolate(n, f"{where}[{i}]") for i, n in enumerate(node.value))
        text = self.interpolate(node, where)
        try:
            return tuple(shlex.split(text))
        except ValueError as exc:
            self.reader.fail(node, where, f"cannot split the command: {exc}")

    def seconds(self, node: Node, where: str) -> float:
        text = self.scalar(node, where).strip()
        if not _DURATION.match(text):
            self.reader.fail(node, where, f"expected a duration like 5s, 1m30s or 500ms: {text!r}")
        unit = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
        return sum(float(n) * unit[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", text))

    def relative(self, node: Node, where: str, raw: str, what: str) -> str:
        """``raw`` (relative to the Compose file, as Compose reads it) as a path inside the
        Compose file's directory: the lab mounts and builds only what is under it."""
        target = (self.path.parent / raw).resolve()
        root = self.path.parent.resolve()
        if raw.startswith(("/", "~")) or not target.is_relative_to(root):
            self.reader.fail(
                node,
                where,
                f"{what} {raw!r} is outside the Compose file's directory {root}",
                hint="the lab reads only the project's own files: put it beside the Compose file",
            )
        if not target.exists():
            self.reader.fail(node, where, f"{what} {raw!r}: no such path {target}")
        return str(target.relative_to(root)) or "."

    # -- one service ------------------------------------------------------------------------
    def service(self, name: str, node: Node, names: list[str], declared: set[str]) -> ServiceSpec:
        where = f"services.{name}"
        if not isinstance(node, MappingNode):
            self.reader.fail(node, where, f"expected a mapping, got {kind(node)}")
        known = (*_READ, *_NO_EFFECT)
        for key, _ in node.value:
            field = key.value if isinstance(key, ScalarNode) else None
            if isinstance(field, str) and field.startswith("x-"):
                continue
            if field not in known:
                self.reader.fail(
                    key,
                    f"{where}.{field}" if field is not None else f"{where} ({kind(key)} as a key)",
                    "not supported by the Docker lab",
                    hint=f"read: {', '.join(_READ)}; accepted without effect: "
                    f"{', '.join(_NO_EFFECT)}",
                )
        f = _mapping(self.reader, node, where, (), known)
        build = ""
        if "build" in f:
            build = self.build(f["build"][1], f"{where}.build")
        if "image" in f:
            image = self.interpolate(f["image"][1], f"{where}.image").strip()
        elif build:
            image = f"drillbook-project/{self.project}-{name}:latest".lower()
        else:
            self.reader.fail(node, where, "expected image: or build:")
        env: dict[str, str] = {}
        if "env_file" in f:
            env.update(self.env_files(f["env_file"][1], f"{where}.env_file"))
        if "environment" in f:
            env.update(self.environment(f["environment"][1], f"{where}.environment"))
        ports = self.ports(f, where)
        volumes, mounts = self.volumes(f, where, declared)
        depends = self.depends(f, where, name, names)
        mine = tuple(k for k, users in self.secrets.items() if name in users)
        recipe = recipe_for_reference(image) if not build else None
        health = self.healthcheck(name, f, where, ports, recipe.name if recipe else "")
        if health is not None and health.port and health.port not in {p.name for p in ports}:
            ports = (*ports, PortSpec(health.port, int(health.port)))
        ports = tuple(self.url(p, recipe.name if recipe else "", env, health) for p in ports)
        return ServiceSpec(
            name=name,
            image=image,
            description=f"Compose service {name} ({self.path.name})",
            command=self.argv(f["command"][1], f"{where}.command") if "command" in f else (),
            entrypoint=(
                self.argv(f["entrypoint"][1], f"{where}.entrypoint") if "entrypoint" in f else ()
            ),
            build=build,
            env=tuple(sorted(env.items())),
            secrets=mine,
            ports=ports,
            volumes=volumes,
            mounts=mounts,
            health=health,
            depends_on=depends,
            cap_add=tuple(
                self.interpolate(n, f"{where}.cap_add[{i}]")
                for i, n in enumerate(self.reader.items(f["cap_add"][1], f"{where}.cap_add"))
            )
            if "cap_add" in f
            else (),
            mem_limit=self.interpolate(f["mem_limit"][1], f"{where}.mem_limit")
            if "mem_limit" in f
            else None,
            working_dir=self.interpolate(f["working_dir"][1], f"{where}.working_dir")
            if "working_dir" in f
            else "",
            user=self.interpolate(f["user"][1], f"{where}.user") if "user" in f else "",
        )

    def build(self, node: Node, where: str) -> str:
        if isinstance(node, MappingNode):
            b = _mapping(self.reader, node, where, ("context",), ())
            node = b["context"][1]
            where = f"{where}.context"
        raw = self.scalar(node, where)
        path = self.relative(node, where, raw, "build context")
        if not (self.path.parent / path / "Dockerfile").is_file():
            self.reader.fail(node, where, f"no Dockerfile in the build context {raw!r}")
        return path

    def environment(self, node: Node, where: str) -> dict[str, str]:
        if not isinstance(node, (MappingNode, SequenceNode)):
            self.reader.fail(
                node, where, f"expected a mapping or a list of KEY=VALUE, got {kind(node)}"
            )
        env: dict[str, str] = {}
        if isinstance(node, MappingNode):
            for k, v in node.value:
                key = self.scalar(k, where)
                here = f"{where}.{key}"
                env[key] = "" if _null(v) else self.interpolate(v, here, secrets_ok=True)
            return env
        for i, item in enumerate(node.value):
            raw = self.scalar(item, f"{where}[{i}]")
            key, sep, _ = raw.partition("=")
            if not sep or not key:
                self.reader.fail(item, f"{where}[{i}]", f"expected KEY=VALUE, got {raw!r}")
            value = self.interpolate(item, f"{where}[{i}]", secrets_ok=True)
            env[key] = value.partition("=")[2]
        return env

    def env_files(self, node: Node, where: str) -> dict[str, str]:
        items = node.value if isinstance(node, SequenceNode) else [node]
        env: dict[str, str] = {}
        for i, item in enumerate(items):
            here = f"{where}[{i}]" if isinstance(node, SequenceNode) else where
            rel = self.relative(item, here, self.interpolate(item, here), "env_file")
            file = self.path.parent / rel
            try:
                lines = file.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                self.reader.fail(item, here, f"cannot read the env_file {rel!r}: {exc}")
            for n, raw_line in enumerate(lines, 1):
                line = raw_line.strip()
                if not line or line.startswith("#"):
                    continue
                key, sep, value = line.partition("=")
                if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
                    raise ConfigError(f"{file}:{n}: expected KEY=VALUE, got {line!r}")
                env[key.strip()] = value.strip().strip("'\"").replace("$", "$$")
        return env

    def ports(self, f: dict[str, tuple[Node, Node]], where: str) -> tuple[PortSpec, ...]:
        found: dict[int, PortSpec] = {}
        for field in ("ports", "expose"):
            if field not in f:
                continue
            for i, item in enumerate(self.reader.items(f[field][1], f"{where}.{field}")):
                here = f"{where}.{field}[{i}]"
                port = self.port(item, here, long_form=field == "ports")
                found.setdefault(port, PortSpec(str(port), port))
        return tuple(found.values())

    def port(self, node: Node, where: str, *, long_form: bool) -> int:
        if isinstance(node, MappingNode) and long_form:
            p = _mapping(
                self.reader, node, where, ("target",), ("published", "protocol", "host_ip", "mode")
            )
            if "protocol" in p and self.scalar(p["protocol"][1], where) != "tcp":
                self.reader.fail(
                    p["protocol"][1], f"{where}.protocol", "the lab publishes tcp only"
                )
            raw = self.interpolate(p["target"][1], f"{where}.target")
        else:
            raw = self.interpolate(node, where).rsplit(":", 1)[-1]
        text, _, proto = raw.partition("/")
        if proto and proto != "tcp":
            self.reader.fail(node, where, f"the lab publishes tcp ports only, got {proto!r}")
        if not text.isdigit() or not 0 < int(text) < 65536:
            self.reader.fail(
                node, where, f'expected a container port (8080, "8080:80"), got {raw!r}'
            )
        return int(text)

    def volumes(
        self, f: dict[str, tuple[Node, Node]], where: str, declared: set[str]
    ) -> tuple[tuple[VolumeSpec, ...], tuple[MountSpec, ...]]:
        vols: list[VolumeSpec] = []
        mounts: list[MountSpec] = []
        if "volumes" not in f:
            return (), ()
        for i, item in enumerate(self.reader.items(f["volumes"][1], f"{where}.volumes")):
            here = f"{where}.volumes[{i}]"
            if isinstance(item, MappingNode):
                v = _mapping(
                    self.reader, item, here, ("target",), ("type", "source", "read_only", "volume")
                )
                vtype = self.scalar(v["type"][1], f"{here}.type") if "type" in v else "volume"
                source = self.interpolate(v["source"][1], f"{here}.source") if "source" in v else ""
                target = self.interpolate(v["target"][1], f"{here}.target")
                ro = "read_only" in v and self.scalar(v["read_only"][1], here).lower() == "true"
            else:
                parts = self.interpolate(item, here).split(":")
                if len(parts) == 1:
                    self.reader.fail(item, here, "an anonymous volume: give it a name (NAME:/path)")
                source, target = parts[0], parts[1]
                ro = len(parts) > 2 and "ro" in parts[2].split(",")
                vtype = "bind" if source.startswith((".", "/", "~")) else "volume"
            if not target.startswith("/"):
                self.reader.fail(
                    item, here, f"expected an absolute path inside the container: {target!r}"
                )
            if vtype == "bind":
                mounts.append(
                    MountSpec(self.relative(item, here, source, "bind mount"), target, ro)
                )
            elif vtype == "volume":
                if source not in declared:
                    self.reader.fail(
                        item,
                        here,
                        f"volume {source!r} is not declared under the top-level volumes:",
                        hint=f"declared: {', '.join(sorted(declared)) or 'none'}",
                    )
                vols.append(VolumeSpec(source, target))
            else:
                self.reader.fail(item, f"{here}.type", f"expected volume or bind, got {vtype!r}")
        return tuple(vols), tuple(mounts)

    def depends(
        self, f: dict[str, tuple[Node, Node]], where: str, name: str, names: list[str]
    ) -> tuple[str, ...]:
        if "depends_on" not in f:
            return ()
        node = f["depends_on"][1]
        if isinstance(node, MappingNode):
            items = [k for k, _ in node.value]
        else:
            items = self.reader.items(node, f"{where}.depends_on")
        deps = []
        for i, item in enumerate(items):
            dep = self.scalar(item, f"{where}.depends_on[{i}]")
            if dep not in names or dep == name:
                self.reader.fail(
                    item,
                    f"{where}.depends_on[{i}]",
                    f"no other service {dep!r} in this file",
                    hint=f"its services: {', '.join(names)}",
                )
            deps.append(dep)
        return tuple(deps)

    def healthcheck(
        self,
        name: str,
        f: dict[str, tuple[Node, Node]],
        where: str,
        ports: tuple[PortSpec, ...],
        recipe: str,
    ) -> HealthCheck | None:
        given = self.health.get(name)
        if given is not None:  # drillbook.yaml's health: wins
            if given.command:
                return HealthCheck("command", "", command=("sh", "-c", given.command))
            if given.http:
                return HealthCheck("http", str(given.port), path=given.http)
            return HealthCheck("tcp", str(given.port))
        if "healthcheck" in f:
            here = f"{where}.healthcheck"
            h = _mapping(
                self.reader,
                f["healthcheck"][1],
                here,
                (),
                (
                    "test",
                    "interval",
                    "timeout",
                    "retries",
                    "start_period",
                    "start_interval",
                    "disable",
                ),
            )
            if "disable" in h and self.scalar(h["disable"][1], here).lower() == "true":
                return None
            if "test" not in h:
                self.reader.fail(f["healthcheck"][1], here, "missing field 'test'")
            test = h["test"][1]
            argv: tuple[str, ...]
            if isinstance(test, SequenceNode):
                words = [self.interpolate(n, f"{here}.test[{i}]") for i, n in enumerate(test.value)]
                if not words or words[0] not in ("CMD", "CMD-SHELL", "NONE"):
                    self.reader.fail(
                        test, f"{here}.test", "expected [CMD, ...], [CMD-SHELL, TEXT] or [NONE]"
                    )
                if words[0] == "NONE":
                    return None
                if len(words) < 2:
                    self.reader.fail(test, f"{here}.test", f"{words[0]} needs a command after it")
                argv = tuple(words[1:]) if words[0] == "CMD" else ("sh", "-c", " ".join(words[1:]))
            else:
                argv = ("sh", "-c", self.interpolate(test, f"{here}.test"))
            start = (
                self.seconds(h["start_period"][1], f"{here}.start_period")
                if "start_period" in h
                else 0.0
            )
            for opt in ("interval", "timeout", "start_interval"):
                if opt in h:
                    self.seconds(h[opt][1], f"{here}.{opt}")
            return HealthCheck("command", "", timeout_s=60.0 + start, poll_s=0.5, command=argv)
        # no check given: the recipe's own protocol, else a TCP connect to the first port
        by_recipe = {"postgres": "postgres", "redis": "redis"}
        if recipe in by_recipe and ports:
            return HealthCheck(by_recipe[recipe], ports[0].name)  # type: ignore[arg-type]
        if ports:
            return HealthCheck("tcp", ports[0].name)
        # unpublished: the recipe's own client inside the container
        inside = {"postgres": ("pg_isready", "-q"), "redis": ("redis-cli", "ping")}
        if recipe in inside:
            return HealthCheck("command", "", command=inside[recipe])
        return None

    def url(
        self, port: PortSpec, recipe: str, env: dict[str, str], health: HealthCheck | None
    ) -> PortSpec:
        """The endpoint URL a handle shows for the port: the protocol the service speaks."""
        if recipe == "postgres" and port.container_port == 5432:
            user = env.get("POSTGRES_USER", "postgres")
            db = env.get("POSTGRES_DB", user)
            password = ":{POSTGRES_PASSWORD}" if "POSTGRES_PASSWORD" in env else ""
            return PortSpec(
                port.name,
                port.container_port,
                f"postgresql://{user}{password}@{{host}}:{{port}}/{db}",
            )
        if recipe == "redis" and port.container_port == 6379:
            return PortSpec(port.name, port.container_port, "redis://{host}:{port}/0")
        if health is not None and health.kind == "http" and health.port == port.name:
            return PortSpec(port.name, port.container_port, "http://{host}:{port}")
        return port

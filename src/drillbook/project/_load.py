"""``load_project(dir)``: drillbook.yaml, the runbook and the lab it names, then each drill file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from drillbook._yaml import NUMBERS, Reader, compose_documents, kind, line_of, read_text, read_yaml
from drillbook.environments._spec import ServiceSpec
from drillbook.errors import ConfigError
from drillbook.project._compose import read_compose
from drillbook.project._drillfile import load_drill
from drillbook.project._model import DrillSpec, HealthSpec, LabSource, Project, RoleMap
from drillbook.project._parts import Context
from drillbook.runbook import Runbook, load_runbook

__all__ = ["BUILTIN", "PROJECT_FILE", "compose_services", "load_project", "manifest_workloads"]

PROJECT_FILE = "drillbook.yaml"
#: the reference stack shipped with drillbook, as a project's lab (``lab: {builtin: ...}``)
BUILTIN = "trading-bot"
#: its services by the runbook's names (environments/services declares them)
BUILTIN_SERVICES = (
    "postgres",
    "redis",
    "rabbitmq",
    "exchange",
    "backend",
    "frontend",
    "backup",
    "prometheus",
    "alertmanager",
    "responder",
    "postgres-exporter",
    "redis-exporter",
)
_PYTHON = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob")


@dataclass
class _Project:
    reader: Reader
    root: Path
    fields: dict[str, tuple[Node, Node]] = field(default_factory=dict)

    def file(self, node: Node, where: str, what: str) -> Path:
        """A path relative to the project directory that must exist."""
        path = self.root / self.reader.text(node, where)
        if not path.is_file():
            self.reader.fail(node, where, f"no such {what}: {path}")
        return path


def load_project(directory: str | Path) -> Project:
    """The project in ``directory`` (its drillbook.yaml). Raises :class:`ConfigError` naming the
    file, line and field of the first problem; TODOs left by ``init`` are in ``Project.todos``."""
    root = Path(directory)
    path = root / PROJECT_FILE
    if root.is_file():
        raise ConfigError(f"{root}: a project is a directory holding {PROJECT_FILE}")
    node = read_yaml(
        path, "project file", hint=f"drillbook init {root} --runbook R.md --compose C.yaml"
    )
    reader = Reader(path)
    if node is None:
        reader.fail(None, "project", "the file is empty; expected runbook, lab and drills")
    top = reader.mapping(
        node,
        "project",
        ("runbook", "lab", "drills"),
        ("name", "description", "roles", "health", "secrets", "alert_rules", "monitoring"),
    )
    proj = _Project(reader, root, top)
    name = reader.text(top["name"][1], "name") if "name" in top else root.resolve().name
    runbook = _runbook(proj, top["runbook"][1])
    lab = _lab(proj, top["lab"][1])
    roles = _roles(proj, top["roles"][1], lab) if "roles" in top else RoleMap()
    known = (*roles.roles, *lab.services)
    health = _health(proj, top["health"][1], roles, known) if "health" in top else ()
    secrets = _secrets(proj, top["secrets"][1], roles, known) if "secrets" in top else {}
    rules = (
        proj.file(top["alert_rules"][1], "alert_rules", "alert rules file")
        if "alert_rules" in top
        else None
    )
    monitoring = (
        _monitoring(proj, top["monitoring"][1], roles, known) if "monitoring" in top else ()
    )
    if monitoring and rules is None:
        reader.fail(
            top["monitoring"][0],
            "monitoring",
            "scrape targets need alert rules to evaluate: give alert_rules: FILE too",
        )
    context = Context(runbook, roles, lab.services, lab.envs)
    drills: list[DrillSpec] = []
    for i, item in enumerate(reader.items(top["drills"][1], "drills")):
        spec = _drill_entry(proj, item, f"drills[{i}]", context)
        if any(d.name == spec.name for d in drills):
            reader.fail(item, f"drills[{i}]", f"drill {spec.name!r} given twice")
        drills.append(spec)
    services: tuple[ServiceSpec, ...] = ()
    if lab.compose is not None:
        services = read_compose(lab.compose, root, project=name, secrets=secrets, health=health)
    return Project(
        name,
        root,
        runbook,
        lab,
        roles,
        tuple(drills),
        health,
        secrets,
        rules,
        tuple(context.todos),
        services,
        monitoring,
    )


def _runbook(proj: _Project, node: Node) -> Runbook:
    path = proj.file(node, "runbook", "runbook")
    runbook = load_runbook(path)  # RunbookParseError is a ConfigError listing each line
    if not runbook.alerts and not runbook.procedures:
        proj.reader.fail(
            node,
            "runbook",
            f"{path} has no alert or procedure sections",
            hint="alerts under '## Alert Response Procedures' (### Name, **Severity**, "
            "**Response Time**), procedures with numbered steps; see `drillbook runbook show`",
        )
    return runbook


def _lab(proj: _Project, node: Node) -> LabSource:
    reader = proj.reader
    fields = reader.mapping(node, "lab", (), ("compose", "manifests", "context", "builtin"))
    if "builtin" in fields:
        value = reader.text(fields["builtin"][1], "lab.builtin")
        if value != BUILTIN:
            reader.fail(fields["builtin"][1], "lab.builtin", f"expected {BUILTIN!r}, got {value!r}")
        if len(fields) > 1:
            reader.fail(node, "lab", "builtin: is the whole lab: no compose: or manifests: with it")
        return LabSource(builtin=value, services=BUILTIN_SERVICES)
    if "compose" not in fields and "manifests" not in fields:
        reader.fail(
            node, "lab", "expected compose: FILE and/or manifests: [FILE, ...] (or builtin:)"
        )
    compose, services = None, []
    if "compose" in fields:
        compose = proj.file(fields["compose"][1], "lab.compose", "Compose file")
        services += compose_services(compose)
    manifests = []
    namespaces: list[str] = []
    if "manifests" in fields:
        for i, item in enumerate(reader.items(fields["manifests"][1], "lab.manifests")):
            manifest = proj.file(item, f"lab.manifests[{i}]", "manifest")
            manifests.append(manifest)
            services += _workloads(manifest)
            namespaces += _workloads(manifest, ("Namespace",))
        if len(set(namespaces)) > 1:
            reader.fail(
                fields["manifests"][1],
                "lab.manifests",
                f"the manifests declare {len(set(namespaces))} Namespaces "
                f"({', '.join(sorted(set(namespaces)))}); expected one (the lab's) or none",
            )
    context = None
    if "context" in fields:
        if "manifests" not in fields:
            reader.fail(fields["context"][0], "lab.context", "a kube context needs manifests")
        context = reader.text(fields["context"][1], "lab.context")
    return LabSource(
        compose,
        tuple(manifests),
        context,
        tuple(dict.fromkeys(services)),
        namespaces[0] if namespaces else "",
    )


def compose_services(path: Path) -> list[str]:
    node = read_yaml(path, "Compose file")
    reader = Reader(path)
    if not isinstance(node, MappingNode):
        reader.fail(node, "compose", f"expected a mapping with services, got {kind(node)}")
    found = {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}
    services = found.get("services")
    if services is None:
        reader.fail(node, "compose", "missing field 'services'")
    if not isinstance(services, MappingNode) or not services.value:
        reader.fail(services, "services", f"expected a mapping of services, got {kind(services)}")
    names = []
    for key, value in services.value:
        name = reader.text(key, "services")
        if not isinstance(value, MappingNode):
            reader.fail(value, f"services.{name}", f"expected a mapping, got {kind(value)}")
        names.append(name)
    return names


def _workloads(path: Path, kinds: tuple[str, ...] = _WORKLOADS) -> list[str]:
    """The names of the workloads (Deployments and the like; or the objects of ``kinds``) the
    manifest file declares."""
    text = read_text(path, "manifest")
    names = []
    for node in compose_documents(path, text, "a manifest"):
        if not isinstance(node, MappingNode):
            continue
        top = {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}
        kind_node, meta = top.get("kind"), top.get("metadata")
        workload = isinstance(kind_node, ScalarNode) and kind_node.value in kinds
        if workload and isinstance(meta, MappingNode):
            for k, v in meta.value:
                if isinstance(k, ScalarNode) and k.value == "name" and isinstance(v, ScalarNode):
                    names.append(str(v.value))
    return names


def _service(proj: _Project, node: Node, where: str, roles: RoleMap, known: tuple[str, ...]) -> str:
    name = proj.reader.text(node, where)
    if name not in known:
        proj.reader.fail(
            node,
            where,
            f"unknown service {name!r}",
            hint=f"roles and lab services: {', '.join(dict.fromkeys(known))}",
        )
    return roles.service(name)


def _roles(proj: _Project, node: Node, lab: LabSource) -> RoleMap:
    reader = proj.reader
    if not isinstance(node, MappingNode) or not node.value:
        reader.fail(
            node, "roles", f"expected a mapping of runbook roles to services, got {kind(node)}"
        )
    roles: dict[str, str] = {}
    for key, value in node.value:
        role = reader.text(key, "roles")
        where = f"roles.{role}"
        if role in roles:
            reader.fail(key, where, "given twice")
        service = reader.text(value, where)
        if service not in lab.services:
            reader.fail(
                value,
                where,
                f"no service {service!r} in the lab",
                hint=f"the lab's services: {', '.join(lab.services)}",
            )
        roles[role] = service
    return RoleMap(roles)


def _port(reader: Reader, node: Node, where: str) -> int:
    """A port number (1 to 65535) written as an integer."""
    ok = isinstance(node, ScalarNode) and node.tag == NUMBERS[0]
    port = int(node.value) if ok and str(node.value).isdigit() else 0
    if not 0 < port < 65536:
        reader.fail(node, where, f"expected a port number, got {kind(node)}")
    return port


def _monitoring(
    proj: _Project, node: Node, roles: RoleMap, known: tuple[str, ...]
) -> tuple[tuple[str, int, str], ...]:
    """``monitoring: {SERVICE: {port: N, path: /metrics}}``: what the lab's Prometheus
    scrapes (job = the service's name), each (service, port, path)."""
    reader = proj.reader
    if not isinstance(node, MappingNode) or not node.value:
        reader.fail(
            node,
            "monitoring",
            f"expected a mapping of services to {{port, path}}, got {kind(node)}",
        )
    targets = []
    for key, value in node.value:
        service = _service(proj, key, "monitoring", roles, known)
        where = f"monitoring.{reader.text(key, 'monitoring')}"
        fields = reader.mapping(value, where, ("port",), ("path",))
        port = _port(reader, fields["port"][1], f"{where}.port")
        path = reader.text(fields["path"][1], f"{where}.path") if "path" in fields else "/metrics"
        if not path.startswith("/"):
            reader.fail(fields["path"][1], f"{where}.path", f"expected a path, got {path!r}")
        targets.append((service, port, path))
    return tuple(targets)


def _health(
    proj: _Project, node: Node, roles: RoleMap, known: tuple[str, ...]
) -> tuple[HealthSpec, ...]:
    reader = proj.reader
    if not isinstance(node, MappingNode) or not node.value:
        reader.fail(node, "health", f"expected a mapping of services to checks, got {kind(node)}")
    specs = []
    for key, value in node.value:
        service = _service(proj, key, "health", roles, known)
        where = f"health.{reader.text(key, 'health')}"
        fields = reader.mapping(value, where, (), ("http", "port", "command"))
        if ("http" in fields) + ("command" in fields) + (
            "port" in fields and "http" not in fields
        ) == 0:
            reader.fail(
                value,
                where,
                "expected http: PATH with port: N, port: N alone (TCP), or command: TEXT",
            )
        if "http" in fields and "command" in fields:
            reader.fail(value, where, "expected one check: http or command, not both")
        port = _port(reader, fields["port"][1], f"{where}.port") if "port" in fields else None
        if "http" in fields and port is None:
            reader.fail(value, where, "an http check needs its port: N")
        http = reader.text(fields["http"][1], f"{where}.http") if "http" in fields else None
        if http is not None and not http.startswith("/"):
            reader.fail(
                fields["http"][1], f"{where}.http", f"expected a path like /health, got {http!r}"
            )
        command = (
            reader.text(fields["command"][1], f"{where}.command") if "command" in fields else None
        )
        specs.append(HealthSpec(service, http, port, command))
    return tuple(specs)


def _secrets(
    proj: _Project, node: Node, roles: RoleMap, known: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    reader = proj.reader
    if not isinstance(node, MappingNode) or not node.value:
        reader.fail(
            node, "secrets", f"expected a mapping of variable names to services, got {kind(node)}"
        )
    secrets: dict[str, tuple[str, ...]] = {}
    for key, value in node.value:
        name = reader.text(key, "secrets")
        where = f"secrets.{name}"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            reader.fail(key, where, "expected an environment variable name")
        if name in secrets:
            reader.fail(key, where, "given twice")
        secrets[name] = tuple(
            _service(proj, item, f"{where}[{i}]", roles, known)
            for i, item in enumerate(reader.items(value, where))
        )
    return secrets


def _drill_entry(proj: _Project, node: Node, where: str, context: Context) -> DrillSpec:
    reader = proj.reader
    if isinstance(node, MappingNode):
        fields = reader.mapping(node, where, ("python",), ("name", "env"))
        ref = reader.text(fields["python"][1], f"{where}.python")
        env = reader.text(fields["env"][1], f"{where}.env") if "env" in fields else "docker"
        if env not in ("docker", "kubernetes"):
            reader.fail(
                fields["env"][1], f"{where}.env", f"expected docker or kubernetes, got {env!r}"
            )
        if not _PYTHON.match(ref):
            reader.fail(
                fields["python"][1],
                f"{where}.python",
                f"expected module.path:function, got {ref!r}",
            )
        name = reader.text(fields["name"][1], f"{where}.name") if "name" in fields else ref
        return DrillSpec(name, f"{reader.path}:{line_of(node)}", python=ref, env=env)
    if isinstance(node, SequenceNode) or not isinstance(node, ScalarNode):
        reader.fail(
            node, where, f"expected a drill file or python: module:function, got {kind(node)}"
        )
    path = proj.file(node, where, "drill file")
    return load_drill(path, context)


def manifest_workloads(path: Path) -> list[str]:
    """The workloads a manifest file declares (Deployments, StatefulSets, ...), by name."""
    return _workloads(path)

"""A runbook's ``kubectl`` command line as a drill step on the Kubernetes lab, run through the
API (no kubectl binary): ``kubectl_step("kubectl rollout restart deployment/backend")``.

The line is read as kubectl reads it (``parse_kubectl``) when the step is built, so a drill
project naming a command this cannot run is rejected at load, with the reason and the forms
that are supported, not halfway through a drill. Each form maps to a
:class:`KubernetesPlatform` verb; ``get`` and ``describe`` save the objects they list as
evidence. The lab's own context is always the one used; a namespace named on the line must be
the lab's (checked at run time, the only time it is known).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from drillbook.environments.kubernetes._kubectl_argv import KubectlCall, Target, parse_kubectl
from drillbook.environments.kubernetes._lab import node_ready
from drillbook.environments.kubernetes._platform import KubernetesPlatform
from drillbook.errors import LabError

__all__ = ["SUPPORTED", "evidence_name", "kubectl_step"]

Action = Callable[[KubernetesPlatform], object]

SUPPORTED = (
    "rollout restart|undo|status deployment/NAME, scale deployment/NAME --replicas=N, "
    "set env deployment/NAME K=V K-, delete pod NAME | delete pod -l app=NAME, "
    "apply -f FILE (a file of the lab's manifests), get|describe KIND [NAME] [-l SELECTOR], "
    "logs, exec NAME -- ARGV, cordon|uncordon|drain NODE "
    "(statefulset/NAME where a Deployment is named, except rollout undo|status)"
)
_WORKLOADS = ("Deployment", "StatefulSet")
# flags every verb takes; the namespace is checked against the lab's when the step runs
_COMMON = {"-n", "--namespace"}
# kind -> (API class, list method, read method, namespaced)
_LISTABLE: dict[str, tuple[str, str, str, bool]] = {
    "Pod": ("CoreV1Api", "list_namespaced_pod", "read_namespaced_pod", True),
    "Service": ("CoreV1Api", "list_namespaced_service", "read_namespaced_service", True),
    "PersistentVolumeClaim": (
        "CoreV1Api",
        "list_namespaced_persistent_volume_claim",
        "read_namespaced_persistent_volume_claim",
        True,
    ),
    "Event": ("CoreV1Api", "list_namespaced_event", "read_namespaced_event", True),
    "Endpoints": ("CoreV1Api", "list_namespaced_endpoints", "read_namespaced_endpoints", True),
    "ConfigMap": ("CoreV1Api", "list_namespaced_config_map", "read_namespaced_config_map", True),
    "Node": ("CoreV1Api", "list_node", "read_node", False),
    "Deployment": ("AppsV1Api", "list_namespaced_deployment", "read_namespaced_deployment", True),
    "StatefulSet": (
        "AppsV1Api",
        "list_namespaced_stateful_set",
        "read_namespaced_stateful_set",
        True,
    ),
    "ReplicaSet": ("AppsV1Api", "list_namespaced_replica_set", "read_namespaced_replica_set", True),
    "Job": ("BatchV1Api", "list_namespaced_job", "read_namespaced_job", True),
    "CronJob": ("BatchV1Api", "list_namespaced_cron_job", "read_namespaced_cron_job", True),
    "NetworkPolicy": (
        "NetworkingV1Api",
        "list_namespaced_network_policy",
        "read_namespaced_network_policy",
        True,
    ),
}
_GLOBAL_VALUED = {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s"}
_SHELL_TOKEN = re.compile(r"^[|&;<>()]+$")
_PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9_-]*>")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


class _Refused(ValueError):
    """A reason a line cannot be run; ``kubectl_step`` words it with the command."""


def kubectl_step(command: str, *, manifests: Path | tuple[Path, ...] | None = None) -> Action:
    """The drill step that does what ``command`` (one ``kubectl`` command line) does, on a
    :class:`KubernetesPlatform`. Raises ValueError, naming the command and the forms that
    are supported, for anything it cannot run faithfully: several commands or shell, another
    context or every namespace, an interactive session, an unsupported verb, kind or flag, or
    (``manifests`` given: the lab's directory or files) ``apply -f`` of a file not among
    them."""
    try:
        call = _parse(command)
        action = _build(call, manifests)
    except _Refused as exc:
        raise ValueError(f"kubectl step {command!r}: {exc}; supported: {SUPPORTED}") from None
    return _Step(command, call, action)


class _Step:
    """A built step: the command it was built from, and what it does when called."""

    def __init__(self, command: str, call: KubectlCall, action: Action) -> None:
        self.command = command
        self.call = call
        self._action = action

    def __call__(self, platform: KubernetesPlatform) -> object:
        lab_ns = platform.lab.namespace
        if self.call.namespace is not None and self.call.namespace != lab_ns:
            raise LabError(
                f"{self.command}: namespace {self.call.namespace!r} is not the lab's ({lab_ns!r})",
                hint="a drill step acts on the lab's namespace only; drop -n or name it",
            )
        return self._action(platform)

    def __repr__(self) -> str:
        return f"kubectl_step({self.command!r})"


# -- reading the line ---------------------------------------------------------------------
def _parse(command: str) -> KubectlCall:
    if "$(" in command or "`" in command or "${" in command:
        raise _Refused("one kubectl command per step; no command substitution or variables")
    placeholder = _PLACEHOLDER.search(command)
    if placeholder:
        raise _Refused(f"{placeholder.group(0)} is a placeholder: name the object itself")
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        shell = [t for t in lexer if _SHELL_TOKEN.match(t)]
        argv = shlex.split(command)
    except ValueError as exc:
        raise _Refused(f"not a command line: {exc}") from None
    if shell:
        raise _Refused(
            f"one kubectl command per step; no pipes, lists or redirections ({shell[0]!r})"
        )
    if any(word.startswith("$") for word in argv):
        raise _Refused("shell variables are not expanded; name the object itself")
    if not argv or argv[0] != "kubectl":
        raise _Refused("a step's command starts with `kubectl`")
    call = parse_kubectl(_verb_first(argv))
    if call is None:
        raise _Refused("no verb")
    given = {flag for flag, _ in call.flags}
    for flag in ("--context", "--kubeconfig", "--cluster", "--user", "--server", "-s"):
        if flag in given:
            raise _Refused(f"{flag}: the lab's own context is used")
    for flag in ("-A", "--all-namespaces"):
        if flag in given:
            raise _Refused(f"{flag}: a step acts on the lab's namespace only")
    if call.interactive or given & {"-i", "--stdin"}:
        raise _Refused("an interactive session (-it) cannot be a drill step")
    return call


def _verb_first(argv: list[str]) -> list[str]:
    """``kubectl -n NS get pods`` as ``kubectl get pods -n NS``: flags given before the verb
    moved after it (before any ``--``), where the parser reads them."""
    rest, moved = argv[1:], []
    while rest and rest[0].startswith("-"):
        takes_value = rest[0] in _GLOBAL_VALUED and len(rest) > 1
        moved += rest[: 2 if takes_value else 1]
        rest = rest[2 if takes_value else 1 :]
    if "--" in rest:
        cut = rest.index("--")
        return ["kubectl", *rest[:cut], *moved, *rest[cut:]]
    return ["kubectl", *rest, *moved]


def _flags(call: KubectlCall, allowed: Iterable[str]) -> None:
    """Refuse a flag ``call``'s verb does not take here (an ignored flag would change what
    the runbook's line means)."""
    ok = _COMMON | set(allowed)
    for flag, _ in call.flags:
        if flag not in ok:
            verb = f"{call.verb} {call.sub}".strip()
            takes = ", ".join(sorted(ok))
            raise _Refused(f"flag {flag} is not supported with {verb} (it takes: {takes})")


def _named(call: KubectlCall, kinds: tuple[str, ...], what: str) -> list[Target]:
    """The objects ``call`` names, each of one of ``kinds``, at least one."""
    if not call.targets or any(t.name is None for t in call.targets):
        raise _Refused(f"name the {what} (e.g. {kinds[0].lower()}/NAME)")
    for target in call.targets:
        if target.kind not in kinds:
            raise _Refused(f"{target.kind} {target.name}: {call.verb} takes a {what} here")
    return list(call.targets)


def _timeout(call: KubectlCall, default: float) -> float:
    """``--timeout`` (a Go duration: 90s, 2m, 1m30s) in seconds."""
    raw = call.value("timeout")
    if raw is None:
        return default
    if raw == "0" or not re.fullmatch(f"(?:{_DURATION.pattern})+", raw):
        raise _Refused(f"--timeout={raw}: give a duration such as 90s or 2m")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[unit] for n, unit in _DURATION.findall(raw))


def _app(selector: str | None) -> str:
    """``app=NAME`` -> NAME: the one selector a workload's pods are deleted or read by."""
    match = re.fullmatch(r"app=([a-z0-9]([-a-z0-9]*[a-z0-9])?)", selector or "")
    if not match:
        raise _Refused(f"selector {selector!r}: only -l app=NAME is supported")
    return match.group(1)


# -- the verbs -----------------------------------------------------------------------------
def _build(call: KubectlCall, manifests: Path | tuple[Path, ...] | None) -> Action:
    verb = call.verb
    if verb == "rollout":
        return _rollout(call)
    if verb == "scale":
        return _scale(call)
    if verb == "set":
        return _set_env(call)
    if verb == "delete":
        return _delete(call)
    if verb == "apply":
        return _apply(call, manifests)
    if verb in ("get", "describe"):
        return _read(call)
    if verb == "logs":
        return _logs(call)
    if verb == "exec":
        return _exec(call)
    if verb in ("cordon", "uncordon", "drain"):
        return _node(call)
    raise _Refused(f"verb {verb!r} is not supported")


def _check_kinds(platform: KubernetesPlatform, targets: list[Target]) -> None:
    """Each target is a workload of the lab of the kind the line names (kubectl would say
    NotFound for ``statefulset/backend`` when backend is a Deployment)."""
    kinds = {name: kind for kind, name, _ in platform.lab.workloads()}
    for target in targets:
        if kinds.get(target.name or "") != target.kind:
            raise LabError(
                f"{platform.lab.name}: no {target.kind} {target.name!r}",
                hint=f"workloads: {', '.join(f'{k}/{n}' for n, k in sorted(kinds.items()))}",
            )


def _names(targets: list[Target]) -> list[str]:
    return [t.name or "" for t in targets]


def _rollout(call: KubectlCall) -> Action:
    sub = call.sub
    if sub == "restart":
        _flags(call, ())
        targets = _named(call, _WORKLOADS, "Deployment or StatefulSet")

        def restart(platform: KubernetesPlatform) -> object:
            _check_kinds(platform, targets)
            for name in _names(targets):
                platform.restart(name)
            return None

        return restart
    if sub in ("undo", "status"):
        _flags(call, ("--timeout",))
        targets = _named(call, ("Deployment",), "Deployment")
        timeout_s = _timeout(call, 120)

        def undo_or_status(platform: KubernetesPlatform) -> object:
            _check_kinds(platform, targets)
            done = []
            for name in _names(targets):
                if sub == "undo":
                    done.append(platform.rollout_undo(name, timeout_s=timeout_s))
                else:
                    platform.wait_rollout(name, timeout_s)
            return done or None

        return undo_or_status
    raise _Refused(f"rollout {sub or '(no sub-command)'} is not supported")


def _scale(call: KubectlCall) -> Action:
    _flags(call, ("--replicas",))
    targets = _named(call, _WORKLOADS, "Deployment or StatefulSet")
    raw = call.value("replicas")
    if raw is None or not raw.isdigit():
        raise _Refused(f"--replicas={raw or ''}: give a whole number of replicas")
    replicas = int(raw)

    def scale(platform: KubernetesPlatform) -> object:
        _check_kinds(platform, targets)
        for name in _names(targets):
            platform.scale(name, replicas)
        return replicas

    return scale


def _set_env(call: KubectlCall) -> Action:
    if call.sub != "env":
        raise _Refused(f"set {call.sub or '(no sub-command)'} is not supported (only set env)")
    _flags(call, ("-e", "--env"))
    # ``deployment X K-``: a word after a named kind reads as a second object; no object's
    # name ends in "-" (DNS-1123), so such a name is an unset
    targets = [t for t in call.targets if not (t.name or "").endswith("-")]
    unsets = [t.name or "" for t in call.targets if (t.name or "").endswith("-")]
    named = KubectlCall(verb="set", sub="env", targets=tuple(targets))
    targets = _named(named, _WORKLOADS, "Deployment or StatefulSet")
    words = [*call.words, *(v for f, v in call.flags if f == "--env" and v), *unsets]
    env: dict[str, str | None] = {}
    for word in words:
        key, eq, value = word.partition("=")
        unset = not eq and key.endswith("-")
        key = key[:-1] if unset else key
        if not (eq or unset) or not _ENV_KEY.match(key):
            raise _Refused(f"{word!r}: set env takes KEY=VALUE or KEY-")
        env[key] = None if unset else value
    if not env:
        raise _Refused("set env: give KEY=VALUE or KEY- (none given)")

    def set_env(platform: KubernetesPlatform) -> object:
        _check_kinds(platform, targets)
        for name in _names(targets):
            platform.set_env(name, dict(env))
        return None

    return set_env


def _delete(call: KubectlCall) -> Action:
    if any(t.kind != "Pod" for t in call.targets) or not call.targets:
        kinds = ", ".join(sorted({t.kind for t in call.targets if t.kind != "Pod"})) or "nothing"
        raise _Refused(f"delete of {kinds}: a step deletes pods only")
    names = [t.name for t in call.targets if t.name]
    if call.selector is not None:
        _flags(call, ("-l", "--selector"))
        if names:
            raise _Refused("delete pod: a name or -l app=NAME, not both")
        app = _app(call.selector)

        def by_label(platform: KubernetesPlatform) -> object:
            platform.delete_pod(app)
            return app

        return by_label
    _flags(call, ("--grace-period", "--force", "--now", "--wait"))
    if not names:
        raise _Refused("delete pod: name a pod or give -l app=NAME")
    grace: int | None = 1 if "--now" in {f for f, _ in call.flags} else None
    for flag, value in call.flags:
        if flag == "--grace-period":
            if not value.lstrip("-").isdigit():
                raise _Refused(f"--grace-period={value}: give whole seconds (with =)")
            grace = int(value)
        if flag == "--wait" and value not in ("", "true"):
            raise _Refused(f"--wait={value}: a step waits for the pods to be replaced")

    def by_name(platform: KubernetesPlatform) -> object:
        delete_pods(platform, names, grace)
        platform.wait_ready()
        return names

    return by_name


def delete_pods(platform: KubernetesPlatform, names: list[str], grace: int | None) -> None:
    """``kubectl delete pod NAME...`` through the core API (the controller replaces them)."""
    from kubernetes.client.exceptions import ApiException

    from kubernetes import client

    core: Any = client.CoreV1Api(platform.lab.api)
    for name in names:
        try:
            core.delete_namespaced_pod(name, platform.lab.namespace, grace_period_seconds=grace)
        except ApiException as exc:
            raise LabError(f"{platform.lab.name}: delete pod {name}: {exc.reason}") from exc


def _apply(call: KubectlCall, manifests: Path | tuple[Path, ...] | None) -> Action:
    _flags(call, ("-f", "--filename", "--server-side", "--force-conflicts"))
    files = call.values.get("filename", ())
    if len(files) != 1 or call.targets or call.words:
        raise _Refused("apply takes one -f FILE")
    given = files[0]
    if given == "-" or "://" in given or given.endswith("/"):
        raise _Refused(f"-f {given}: apply a manifest file of the lab")
    name = Path(given).name
    known = [p.name for p in manifest_files(manifests)] if manifests is not None else None
    if known is not None and name not in known:
        there = ", ".join(known) or "none"
        raise _Refused(f"-f {given}: {name} is not one of the lab's manifests ({there})")

    def apply(platform: KubernetesPlatform) -> object:
        files = manifest_files(platform.lab.manifests)
        if name not in {p.name for p in files}:
            raise LabError(
                f"{platform.lab.name}: apply -f {given}: {name} is not one of the lab's manifests",
                hint=f"its files: {', '.join(p.name for p in files) or 'none'}",
            )
        return platform.apply_manifest(name)

    return apply


def manifest_files(manifests: Path | tuple[Path, ...]) -> list[Path]:
    """The manifest files a lab applies: a directory's ``*.yaml``, or the files given."""
    if isinstance(manifests, tuple):
        return list(manifests)
    return sorted(manifests.glob("*.yaml"))


def _read(call: KubectlCall) -> Action:
    _flags(call, ("-l", "--selector", "-o", "--output", "--show-labels", "--sort-by"))
    if not call.targets:
        raise _Refused(f"{call.verb}: name one kind (pods, deployments, ...)")
    kinds = {t.kind for t in call.targets}
    if len(kinds) != 1:
        raise _Refused(f"{call.verb}: one kind per step")
    kind = call.targets[0].kind
    if kind not in _LISTABLE:
        listable = ", ".join(sorted(_LISTABLE))
        raise _Refused(f"{call.verb} {kind}: not a kind a step reads (it reads: {listable})")
    names = [t.name for t in call.targets if t.name]
    if names and call.selector is not None:
        raise _Refused(f"{call.verb}: a name or -l SELECTOR, not both")
    selector = call.selector
    file_name = evidence_name(call)

    def read(platform: KubernetesPlatform) -> object:
        found = list_objects(platform, kind, names, selector)
        text = "".join(f"{line(kind, obj)}\n" for obj in found) or f"no {kind} found\n"
        return platform.save_evidence(file_name, text)

    return read


def evidence_name(call: KubectlCall) -> str:
    """The file a ``get``/``describe`` saves its listing as: its verb, kind, names and
    selector, in characters safe in a file name (``kubectl-get-pod-app-backend.txt``)."""
    kind = call.targets[0].kind.lower() if call.targets else "objects"
    parts = ["kubectl", call.verb, kind, *(t.name for t in call.targets if t.name)]
    if call.selector:
        parts.append(call.selector)
    stem = re.sub(r"[^A-Za-z0-9._]+", "-", "-".join(parts))
    stem = re.sub(r"[-.]*\.\.[-.]*", "-", stem).strip("-.")  # no "..", nothing hidden
    return f"{stem[:120]}.txt"


def list_objects(
    platform: KubernetesPlatform, kind: str, names: list[str], selector: str | None
) -> list[Any]:
    """The objects of ``kind`` in the lab's namespace (cluster-wide for nodes): those named,
    or every one the selector picks."""
    from kubernetes.client.exceptions import ApiException

    from kubernetes import client

    api_class, list_method, read_method, namespaced = _LISTABLE[kind]
    api = getattr(client, api_class)(platform.lab.api)
    where = (platform.lab.namespace,) if namespaced else ()
    try:
        if names:
            return [getattr(api, read_method)(name, *where) for name in names]
        extra = {"label_selector": selector} if selector else {}
        listed = getattr(api, list_method)(*where, **extra)
    except ApiException as exc:
        raise LabError(f"{platform.lab.name}: reading {kind}: {exc.status} {exc.reason}") from exc
    return list(listed.items)


def line(kind: str, obj: Any) -> str:
    """One object as one line: its name and where it stands (phase, readiness, ...)."""
    name = obj.metadata.name
    spec: Any = getattr(obj, "spec", None)
    status: Any = getattr(obj, "status", None)
    if kind == "Pod":
        statuses = status.container_statuses or []
        ready = sum(1 for c in statuses if c.ready)
        restarts = sum(c.restart_count or 0 for c in statuses)
        return (
            f"{name} {status.phase} {ready}/{len(spec.containers)} ready, "
            f"{restarts} restarts, node {spec.node_name or '-'}"
        )
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        want = spec.replicas if spec.replicas is not None else 1
        return f"{name} {status.ready_replicas or 0}/{want} ready"
    if kind == "Service":
        return f"{name} {spec.type} {spec.cluster_ip or '-'}"
    if kind == "PersistentVolumeClaim":
        return f"{name} {status.phase} volume {spec.volume_name or '-'}"
    if kind == "Event":
        what = obj.involved_object
        return f"{name} {obj.type} {obj.reason} {what.kind}/{what.name}: {obj.message}"
    if kind == "Node":
        return f"{name} Ready={node_ready(obj)}{' unschedulable' if spec.unschedulable else ''}"
    if kind == "Job":
        return f"{name} succeeded {status.succeeded or 0}, failed {status.failed or 0}"
    if kind == "CronJob":
        return f"{name} schedule {spec.schedule!r}{' suspended' if spec.suspend else ''}"
    if kind == "Endpoints":
        addresses = [a.ip for s in obj.subsets or [] for a in s.addresses or []]
        return f"{name} {len(addresses)} ready addresses"
    if kind == "ConfigMap":
        return f"{name} {len(obj.data or {})} keys"
    if kind == "NetworkPolicy":
        return (
            f"{name} podSelector={spec.pod_selector.match_labels or {}} types={spec.policy_types}"
        )
    return str(name)


def _one_workload(call: KubectlCall) -> str:
    """The workload (or pod) a ``logs``/``exec`` names: ``deployment/X``, ``X`` or
    ``-l app=X``."""
    if call.selector is not None:
        if call.targets:
            raise _Refused(f"{call.verb}: a name or -l app=NAME, not both")
        return _app(call.selector)
    if len(call.targets) != 1 or not call.targets[0].name:
        raise _Refused(f"{call.verb}: name one pod or deployment/NAME")
    target = call.targets[0]
    if target.kind not in ("Pod", *_WORKLOADS):
        raise _Refused(f"{call.verb} {target.kind}/{target.name}: name a pod or a workload")
    return target.name or ""


def _logs(call: KubectlCall) -> Action:
    _flags(call, ("--tail", "-c", "--container", "-l", "--selector"))
    service = _one_workload(call)
    raw = call.value("tail")
    if raw is not None and not raw.isdigit():
        raise _Refused(f"--tail={raw}: give a whole number of lines")
    tail = int(raw) if raw is not None else 2000

    def logs(platform: KubernetesPlatform) -> object:
        return platform.logs(service, tail=tail)

    return logs


def _exec(call: KubectlCall) -> Action:
    _flags(call, ("-c", "--container"))
    service = _one_workload(call)
    argv = list(call.exec_argv)
    if not argv:
        raise _Refused("exec: give the command after --")

    def exec_(platform: KubernetesPlatform) -> object:
        return platform.exec(service, argv)

    return exec_


def _node(call: KubectlCall) -> Action:
    drain = call.verb == "drain"
    _flags(call, ("--ignore-daemonsets", "--delete-emptydir-data", "--timeout") if drain else ())
    names = [t.name for t in call.targets if t.kind == "Node" and t.name]
    names += [w for w in call.words if "=" not in w]
    if len(names) != 1 or any(t.kind != "Node" for t in call.targets):
        raise _Refused(f"{call.verb}: name one node")
    node = names[0]
    timeout_s = _timeout(call, 60)

    def on_node(platform: KubernetesPlatform) -> object:
        if drain:
            return platform.drain(node, timeout_s=timeout_s)
        platform.cordon(node, on=call.verb == "cordon")
        return node

    return on_node

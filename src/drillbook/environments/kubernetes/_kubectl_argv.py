"""A kubectl command line read as kubectl reads it: verb, objects, namespace, selector, flags."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CLUSTER_KINDS", "KubectlCall", "Target", "kind_of", "parse_kubectl"]

_KINDS = {
    "Pod": ("pod", "pods", "po"),
    "Deployment": ("deployment", "deployments", "deploy"),
    "StatefulSet": ("statefulset", "statefulsets", "sts"),
    "Service": ("service", "services", "svc"),
    "Secret": ("secret", "secrets"),
    "PersistentVolumeClaim": ("pvc", "persistentvolumeclaim", "persistentvolumeclaims"),
    "StorageClass": ("storageclass", "storageclasses", "sc"),
    "Node": ("node", "nodes", "no"),
    "NetworkPolicy": ("networkpolicy", "networkpolicies", "netpol"),
    "Job": ("job", "jobs"),
    "CronJob": ("cronjob", "cronjobs", "cj"),
    "Event": ("event", "events", "ev"),
    "Endpoints": ("endpoints", "ep"),
    "ConfigMap": ("configmap", "configmaps", "cm"),
    "ResourceQuota": ("resourcequota", "resourcequotas", "quota"),
    "Namespace": ("namespace", "namespaces", "ns"),
    "ReplicaSet": ("replicaset", "replicasets", "rs"),
}
_ALIASES = {alias: kind for kind, aliases in _KINDS.items() for alias in aliases}
CLUSTER_KINDS = frozenset({"StorageClass", "Node", "Namespace"})
# flags that take a value (as the next word, or after "="); "-f" is --filename except for logs
_VALUED = {
    "-n": "namespace",
    "--namespace": "namespace",
    "-l": "selector",
    "--selector": "selector",
    "-f": "filename",
    "--filename": "filename",
    "-p": "patch",
    "--patch": "patch",
    "-o": "output",
    "--output": "output",
    "-c": "container",
    "--container": "container",
    "--from": "from",
    "--tail": "tail",
    "--timeout": "timeout",
    "--for": "for",
    "--sort-by": "sort-by",
    "--replicas": "replicas",
    "--type": "type",
    "--from-literal": "from-literal",
    "--dry-run": "dry-run",
    "--context": "context",
    "--kubeconfig": "kubeconfig",
}
# verbs whose first word names a sub-command (rollout restart, set env, create job, top pods)
_SUBVERBS = {"rollout", "set", "create", "top", "auth", "config"}


def kind_of(word: str) -> str | None:
    return _ALIASES.get(word.lower())


@dataclass(frozen=True)
class Target:
    kind: str
    name: str | None  # None: every object of the kind (or those the selector picks)


@dataclass(frozen=True)
class KubectlCall:
    verb: str
    sub: str = ""
    targets: tuple[Target, ...] = ()
    namespace: str | None = None
    selector: str | None = None
    flags: tuple[tuple[str, str], ...] = ()  # (flag as written, value or "")
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    words: tuple[str, ...] = ()  # positionals not naming objects: K=V, container=image, ...
    exec_argv: tuple[str, ...] = ()  # after "--"
    interactive: bool = False

    def value(self, key: str) -> str | None:
        found = self.values.get(key)
        return found[-1] if found else None

    @property
    def mutating(self) -> bool:
        return self.verb in ("delete", "scale", "patch", "apply", "create", "set", "drain") or (
            self.verb == "rollout" and self.sub in ("restart", "undo")
        )


def _targets(positional: list[str]) -> tuple[list[Target], list[str]]:
    targets: list[Target] = []
    words: list[str] = []
    kind: str | None = None
    for word in positional:
        if "/" in word and kind_of(word.split("/", 1)[0]):
            targets.append(Target(kind_of(word.split("/", 1)[0]) or "", word.split("/", 1)[1]))
            kind = None
        elif kind is None and not targets and kind_of(word):
            kind = kind_of(word)
        elif kind is not None and "=" not in word:
            targets.append(Target(kind, word))
        else:
            words.append(word)
    if kind is not None and not any(t.kind == kind for t in targets):
        targets.append(Target(kind, None))
    return targets, words


def _objects(
    verb: str, sub: str, positional: list[str], values: dict[str, list[str]]
) -> tuple[list[Target], list[str]]:
    """The objects a command names and its other words; ``cp`` adds its namespace."""
    if verb == "create" and sub == "job":
        return [], positional  # the new job's name is a word, not an object
    if verb == "cp":
        pods = []
        for word in positional:
            if ":" in word:
                ns, _, pod = word.split(":", 1)[0].rpartition("/")
                pods.append(Target("Pod", pod))
                if ns:
                    values.setdefault("namespace", []).append(ns)
        return pods, positional
    targets, words = _targets([sub, *positional] if verb == "top" else positional)
    if verb in ("exec", "logs") and not targets and words:
        return [Target("Pod", words[0])], words[1:]
    if verb == "drain" and not targets and words:
        return [Target("Node", words[0])], words[1:]
    return targets, words


def parse_kubectl(argv: tuple[str, ...] | list[str]) -> KubectlCall | None:
    """``argv`` of one program (``kubectl`` first); None when it is not kubectl."""
    if not argv or argv[0] != "kubectl" or len(argv) < 2:
        return None
    verb, rest = argv[1], list(argv[2:])
    sub = ""
    if verb in _SUBVERBS and rest and not rest[0].startswith("-"):
        sub, rest = rest[0], rest[1:]
        if verb == "create" and sub == "secret" and rest and not rest[0].startswith("-"):
            sub, rest = f"secret {rest[0]}", rest[1:]
    exec_argv: list[str] = []
    if "--" in rest:
        exec_argv = rest[rest.index("--") + 1 :]
        rest = rest[: rest.index("--")]
    flags: list[tuple[str, str]] = []
    values: dict[str, list[str]] = {}
    positional: list[str] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        name, eq, inline = arg.partition("=")
        key = _VALUED.get(name)
        if arg.startswith("-") and key and not (verb == "logs" and name == "-f"):
            value = inline if eq else (rest[i + 1] if i + 1 < len(rest) else "")
            flags.append((name, value))
            values.setdefault(key, []).append(value)
            i += 1 if eq else 2
            continue
        if arg.startswith("-") and len(arg) > 1:
            flags.append((name, inline))
        else:
            positional.append(arg)
        i += 1
    kind_targets, words = _objects(verb, sub, positional, values)
    interactive = any(f in ("-it", "-ti", "-t", "--tty") for f, _ in flags)
    return KubectlCall(
        verb=verb,
        sub=sub,
        targets=tuple(kind_targets),
        namespace=values["namespace"][-1] if values.get("namespace") else None,
        selector=values["selector"][-1] if values.get("selector") else None,
        flags=tuple(flags),
        values={k: tuple(v) for k, v in values.items()},
        words=tuple(words),
        exec_argv=tuple(exec_argv),
        interactive=interactive,
    )

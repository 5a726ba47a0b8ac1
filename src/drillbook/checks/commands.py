"""Commands that cannot work as written: ``-it`` in automation, ``logs -f`` that never ends,
flags the tool does not have, binaries missing from the image the command runs in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drillbook.checks._doc import RunbookDoc, segments
from drillbook.checks._finding import Finding
from drillbook.checks.kubectl import kubectl_calls, pod_app
from drillbook.environments.kubernetes._kubectl_argv import KubectlCall
from drillbook.runbook import Command

__all__ = ["BinaryProbe", "ExecTarget", "check_binaries", "check_commands", "exec_targets"]

# per verb, the flags kubectl has (long and short), beside the global ones
_GLOBAL = {
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "-o",
    "--output",
    "-l",
    "--selector",
    "-f",
    "--filename",
    "-R",
    "--recursive",
    "--field-selector",
    "--request-timeout",
    "-v",
}
_FLAGS: dict[str, set[str]] = {
    "get": {
        "-w",
        "--watch",
        "-A",
        "--all-namespaces",
        "--show-labels",
        "--sort-by",
        "--ignore-not-found",
        "-L",
        "--label-columns",
        "--no-headers",
        "--show-kind",
    },
    "describe": {"-A", "--all-namespaces"},
    "logs": {
        "-f",
        "--follow",
        "--previous",
        "-p",
        "--tail",
        "--since",
        "-c",
        "--container",
        "--timestamps",
        "--all-containers",
    },
    "top": {"--sort-by", "--containers", "-A", "--all-namespaces", "--no-headers"},
    "exec": {"-it", "-ti", "-i", "-t", "--stdin", "--tty", "-c", "--container"},
    "delete": {
        "--grace-period",
        "--force",
        "--wait",
        "--all",
        "--now",
        "--timeout",
        "--ignore-not-found",
        "--cascade",
        "-A",
        "--all-namespaces",
        "--dry-run",
    },
    "scale": {"--replicas", "--current-replicas", "--timeout", "--all", "--dry-run"},
    "rollout": {"--to-revision", "--timeout", "-w", "--watch", "--revision"},
    "set": {"-c", "--containers", "--env", "-e", "--from", "--dry-run"},
    "patch": {"-p", "--patch", "--type", "--dry-run", "--subresource"},
    "apply": {"-f", "--filename", "--dry-run", "--server-side", "--force-conflicts", "--prune"},
    "create": {"--from", "--from-literal", "--from-file", "--dry-run", "--type"},
    "wait": {"--for", "--timeout", "--all"},
    "cp": {"-c", "--container", "--retries"},
    "drain": {
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
        "--timeout",
        "--grace-period",
        "--skip-wait-for-delete-timeout",
        "--disable-eviction",
        "--pod-selector",
    },
}
_USAGE = re.compile(r"usage:\s*(.*?)[\"']", re.I)


@dataclass(frozen=True)
class ExecTarget:
    """A ``kubectl exec`` in the runbook: the lab service it lands in and the program run."""

    command: Command
    service: str
    argv: tuple[str, ...]


def _service(call: KubectlCall) -> str | None:
    if not call.targets:
        return None
    target = call.targets[0]
    name = target.name or ""
    if target.kind in ("Deployment", "StatefulSet"):
        return name
    app = pod_app(name)
    if app is not None:
        return app
    return name.removesuffix("-pod") if name.endswith("-pod") else None


def exec_targets(doc: RunbookDoc) -> list[ExecTarget]:
    out = []
    for command, _, call in kubectl_calls(doc):
        service = _service(call) if call.verb == "exec" and call.exec_argv else None
        if service is not None:
            out.append(ExecTarget(command, service, call.exec_argv))
    return out


def _script_options(script: Path) -> set[str] | None:
    """The options a script's own usage line offers (``usage: restore.sh --file F | --list``)."""
    try:
        text = script.read_text()
    except OSError:
        return None
    found = {opt for m in _USAGE.finditer(text) for opt in re.findall(r"--[a-z0-9-]+", m.group(1))}
    return found or None


def check_commands(doc: RunbookDoc, project: Path) -> list[Finding]:
    """``project``'s fixtures/stack is mounted at /app in the lab: scripts the runbook calls
    are read there; files it builds from are looked up in ``project``."""
    out: list[Finding] = []
    stack_root = project / "fixtures" / "stack"

    def add(command: Command, code: str, sev: str, msg: str, hint: str, subject: str) -> None:
        out.append(doc.finding("commands", code, sev, command, msg, hint=hint, subject=subject))

    for command, _, call in kubectl_calls(doc):
        if call.interactive and call.verb == "exec":
            add(
                command,
                "commands.interactive",
                "warning",
                "kubectl exec -it needs a terminal: automation (CI, a drill, a pipe) has none",
                "drop -it (use -i only when piping stdin into the command)",
                "-it",
            )
        follow = call.verb == "logs" and any(f in ("-f", "--follow") for f, _ in call.flags)
        if follow:
            add(
                command,
                "commands.never-ends",
                "warning",
                "kubectl logs -f follows for ever: a script waits here until it is killed",
                "use --since=5m or --tail=N, or wrap it in timeout 60",
                "logs -f",
            )
        known = _GLOBAL | _FLAGS.get(call.verb, set())
        for flag, _ in call.flags:
            if call.verb in _FLAGS and flag not in known:
                add(
                    command,
                    "commands.unknown-flag",
                    "error",
                    f"kubectl {call.verb} has no flag {flag}",
                    f"kubectl {call.verb} --help lists its flags",
                    flag,
                )
        if call.exec_argv and call.exec_argv[0].startswith("/app/"):
            script = stack_root / call.exec_argv[0].removeprefix("/app/")
            options = _script_options(script)
            for arg in call.exec_argv[1:]:
                if options and arg.startswith("--") and arg not in options:
                    add(
                        command,
                        "commands.unknown-flag",
                        "error",
                        f"{call.exec_argv[0]} has no option {arg} (it offers "
                        f"{', '.join(sorted(options))})",
                        f"see {script.name}'s usage; e.g. {sorted(options)[0]}",
                        arg,
                    )
    for command in doc.commands():
        for seg in segments(command):
            if seg.argv[:2] == ("docker", "build") and "-f" in seg.argv:
                path = seg.argv[seg.argv.index("-f") + 1]
                if not (project / path).exists():
                    add(
                        command,
                        "commands.missing-file",
                        "warning",
                        f"docker build -f {path}: the project has no such file",
                        "the reference stack runs from mounted code; build images where a "
                        "Dockerfile exists",
                        path,
                    )
    return out


BinaryProbe = Callable[[str, str], bool | None]  # (service, binary) -> found; None: no such service


def check_binaries(doc: RunbookDoc, probe: BinaryProbe) -> list[Finding]:
    """Every program a ``kubectl exec`` runs, looked up (``command -v``) in the lab container
    of the service it lands in."""
    out: list[Finding] = []
    cache: dict[tuple[str, str], bool | None] = {}
    for target in exec_targets(doc):
        binary = target.argv[0]
        key = (target.service, binary)
        if key not in cache:
            cache[key] = probe(target.service, binary)
        if cache[key] is False:
            out.append(
                doc.finding(
                    "commands",
                    "commands.binary-missing",
                    "error",
                    target.command,
                    f"{binary}: not found in the {target.service} container "
                    f"(`command -v {binary}` in the lab's {target.service})",
                    hint=f"install {binary} in the {target.service} image, or run it from a "
                    "debug container (kubectl debug) or the operator's machine",
                    subject=f"{target.service}:{binary}",
                )
            )
    return out

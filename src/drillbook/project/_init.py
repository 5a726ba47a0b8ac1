"""``drillbook init``: a project scaffolded from a runbook and a Compose file or manifests.

One drill skeleton per alert and per procedure, budgets read from the runbook's text (left as
a comment: the loader takes them from the runbook itself), and ``TODO`` wherever a person must
decide: the fault, the probes, a step whose runbook command has no Docker verb. From
Kubernetes manifests (and no Compose file) the drills are ``env: kubernetes`` and a step whose
one command is a kubectl line drillbook runs (``kubectl_step``) is bound to it as written.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from drillbook.drills import budgets_for
from drillbook.errors import ConfigError
from drillbook.project._drillfile import find_procedures
from drillbook.project._load import PROJECT_FILE, compose_services, manifest_workloads
from drillbook.project._model import VERBS
from drillbook.runbook import Procedure, Runbook, Step, load_runbook
from drillbook.sla import Budget

__all__ = ["init_project", "runbook_roles"]

_ROLE = re.compile(r"(?:deployment|statefulset)[/ ]([a-z0-9][a-z0-9-]*)|app=([a-z0-9][a-z0-9-]*)")
# the runbook commands with a Docker verb of the same meaning: (pattern, verb, parameters)
_VERB_OF = (
    (re.compile(r"^kubectl rollout restart deployment/([\w-]+)"), "restart", "{{service: {0}}}"),
    (
        re.compile(r"^kubectl scale deployment[/ ]([\w-]+) --replicas=(\d+)"),
        "scale",
        "{{service: {0}, replicas: {1}}}",
    ),
    (re.compile(r"^kubectl rollout undo deployment/([\w-]+)"), "rollout_undo", "{{service: {0}}}"),
    (re.compile(r"^kubectl delete pod -l app=([\w-]+)"), "delete_pod", "{{service: {0}}}"),
    (
        re.compile(r"^kubectl set env deployment/([\w-]+) ([A-Z_][A-Z0-9_]*)=(\S+)"),
        "set_env",
        '{{service: {0}, env: {{{1}: "{2}"}}}}',
    ),
)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "drill"


def runbook_roles(runbook: Runbook) -> list[str]:
    """The workloads the runbook's commands name (``deployment/backend``, ``-l app=postgres``)."""
    found = []
    for command in runbook.commands():
        for match in _ROLE.finditer(command.text):
            found.append(match.group(1) or match.group(2))
    return list(dict.fromkeys(found))


def _verb(step: Step, services: set[str]) -> str | None:
    """``verb: {params}`` for a step whose one command has a Docker verb, on a known service."""
    if len(step.commands) != 1:
        return None
    for pattern, verb, params in _VERB_OF:
        match = pattern.match(step.commands[0].text)
        if match and match.group(1) in services:
            assert verb in VERBS
            return f"{verb}: {params.format(*match.groups())}"
    return None


def _kubectl(step: Step, manifests: tuple[Path, ...]) -> str | None:
    """``kubectl: LINE`` for a step whose one command is a kubectl line drillbook runs."""
    from drillbook.environments.kubernetes import kubectl_step

    if len(step.commands) != 1 or not step.commands[0].text.startswith("kubectl "):
        return None
    try:
        kubectl_step(step.commands[0].text, manifests=manifests or None)
    except ValueError:
        return None
    return f"kubectl: {_q(step.commands[0].text)}"


def _steps(
    steps: tuple[Step, ...], services: set[str], manifests: tuple[Path, ...] = ()
) -> list[str]:
    lines = ["steps:"]
    for step in steps:
        lines += [f"  - name: {_q(step.title)}", f"    runbook: {step.line}"]
        bound = _kubectl(step, manifests) if manifests else _verb(step, services)
        if bound is not None:
            lines.append(f"    {bound}")
            continue
        lines.append("    # TODO: bind to a verb, run: {service: S, command: C} or kubectl: C")
        lines += [f"    #   the runbook: {c.text}" for c in step.commands]
        what = "its commands above" if step.commands else "the runbook gives no command"
        lines.append(f"    todo: {_q(f'TODO bind to a verb, run: or kubectl: ({what})')}")
    if len(lines) == 1:
        lines += [
            "  # TODO: the runbook gives this section no numbered steps",
            f"  - name: {_q('the remediation')}",
            f"    todo: {_q('TODO bind this step (the runbook lists none)')}",
        ]
    return lines


def _budget_comment(budgets: tuple[Budget, ...]) -> list[str]:
    if not budgets:
        return []
    lines = ["# budgets from the runbook (an explicit one may tighten, never loosen):"]
    lines += [f"#   {b.measure}: {b.seconds:g}  ({b.source})" for b in budgets]
    return lines


def _alert_drill(
    runbook: Runbook, name: str, services: set[str], first: str, manifests: tuple[Path, ...]
) -> str:
    alert = runbook.alert(name)
    where = Path(runbook.source).name
    lines = [
        f"# {alert.name} ({where}:{alert.line}): a drill skeleton written by drillbook init",
        f"name: {_slug(alert.name)}",
        f"alert: {_q(alert.name)}",
    ]
    if manifests:
        lines += [
            "env: kubernetes",
            "# TODO: the failure to inject, e.g. {pod_kill: {app: " + first + "}}",
            f"fault: {_q('TODO the fault to inject (drillbook.faults.kubernetes)')}",
            "# TODO: what healthy means, e.g. [{workload_ready: {app: " + first + "}}]",
            f"probes: {_q('TODO the probes (drillbook.probes.kubernetes)')}",
        ]
    else:
        lines += [
            "# TODO: the failure to inject, e.g. {kill_container: {service: " + first + "}}",
            f"fault: {_q('TODO the fault to inject (a name of drillbook.faults.FAULTS)')}",
            "# TODO: what healthy means, e.g. [{service_healthy: {service: " + first + "}}]",
            f"probes: {_q('TODO the probes (names of drillbook.probes.PROBES)')}",
        ]
    lines += [
        *_steps(alert.resolution, services, manifests),
        *_budget_comment(budgets_for(runbook, alert.name)),
    ]
    return "\n".join(lines) + "\n"


def _procedure_drill(
    runbook: Runbook, proc: Procedure, services: set[str], manifests: tuple[Path, ...]
) -> str:
    where = Path(runbook.source).name
    lines = [
        f"# {proc.name} ({where}:{proc.line}): a drill skeleton written by drillbook init",
        "# a planned procedure (its clock starts when it does); give a real fault to drill it",
        "# as the response to a failure",
        f"name: {_slug(proc.name)}",
        f"procedure: {_q(proc.name)}",
        *(["env: kubernetes"] if manifests else []),
        f"fault: {{scheduled: {{what: {_q(proc.name)}}}}}",
        *_steps(proc.steps, services, manifests),
    ]
    if proc.window is not None and proc.window.kind == "window":
        lines.append(
            f"# budget from the runbook: window {proc.window.seconds:g}s "
            f"({where}:{proc.window.line})"
        )
    else:
        lines += [
            "budgets:",
            "  # TODO: the runbook states no time for this procedure",
            f"  time_to_recover: {_q('TODO seconds (the runbook states none)')}",
        ]
    return "\n".join(lines) + "\n"


def init_project(
    directory: str | Path,
    runbook_path: str | Path,
    compose_path: str | Path | None = None,
    manifests: tuple[str | Path, ...] = (),
) -> list[Path]:
    """Write a project into ``directory`` (created; refused when it holds a project or
    drills/) from a runbook and a Compose file and/or Kubernetes manifests (without a Compose
    file, its drills are Kubernetes drills). Returns the files written."""
    root = Path(directory)
    target = root / PROJECT_FILE
    runbook_path, compose, manifest_files = _inputs(root, runbook_path, compose_path, manifests)
    runbook = load_runbook(runbook_path)
    if not runbook.alerts and not runbook.procedures:
        raise ConfigError(f"{runbook_path}: the runbook has no alert or procedure sections")
    services = compose_services(compose) if compose is not None else []
    services += [w for m in manifest_files for w in manifest_workloads(m) if w not in services]
    if not services:
        raise ConfigError("drillbook init: the lab has no service or workload to drill")
    kubernetes = manifest_files if compose is None else ()
    roles = runbook_roles(runbook)
    files: dict[str, str] = {}
    known = set(services)
    for alert in runbook.alerts:
        files[_unique(files, _slug(alert.name))] = _alert_drill(
            runbook, alert.name, known, roles[0] if roles else services[0], kubernetes
        )
    for proc in runbook.procedures:
        assert find_procedures(runbook, proc.name)
        files[_unique(files, _slug(proc.name))] = _procedure_drill(runbook, proc, known, kubernetes)
    root.mkdir(parents=True, exist_ok=True)
    (root / "drills").mkdir()

    def rel(path: Path) -> str:
        return os.path.relpath(path.resolve(), root.resolve())

    lines = [
        "# a drillbook project written by drillbook init; check it: drillbook check-project DIR",
        f"name: {_q(root.resolve().name)}",
        f"runbook: {_q(rel(runbook_path))}",
        "lab:",
        *([f"  compose: {_q(rel(compose))}"] if compose is not None else []),
        *(["  manifests:"] if manifest_files else []),
        *[f"    - {_q(rel(m))}" for m in manifest_files],
    ]
    generated = _secret_variables(compose) if compose is not None else {}
    if generated:
        lines.append("# the Compose file's variables without a default: generated per lab run")
        lines.append("secrets:")
        lines += [f"  {var}: [{', '.join(users)}]" for var, users in generated.items()]
    unmatched = [r for r in roles if r not in known]
    if unmatched:
        lines.append("# runbook roles with no lab service of that name: map them (role: service)")
        lines += [f"# TODO roles: which service plays {r!r}?" for r in unmatched]
        lines.append("# roles:")
        lines += [f"#   {r}: SERVICE" for r in unmatched]
    lines.append("drills:")
    written = [target]
    for name, text in files.items():
        path = root / "drills" / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        written.append(path)
        lines.append(f"  - drills/{name}.yaml")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def _inputs(
    root: Path,
    runbook: str | Path,
    compose: str | Path | None,
    manifests: tuple[str | Path, ...],
) -> tuple[Path, Path | None, tuple[Path, ...]]:
    """The files init reads, each checked: ConfigError naming the one missing (or a project
    already in ``root``)."""
    target = root / PROJECT_FILE
    if target.exists():
        raise ConfigError(f"{target}: a project is already there; refusing to overwrite it")
    if (root / "drills").exists():
        raise ConfigError(f"{root / 'drills'}: already there; refusing to overwrite it")
    if compose is None and not manifests:
        raise ConfigError("drillbook init: the lab is missing: give --compose FILE or --manifests")
    runbook_path = Path(runbook)
    compose_file = Path(compose) if compose is not None else None
    manifest_files = tuple(Path(m) for m in manifests)
    if not runbook_path.is_file():
        raise ConfigError(f"{runbook_path}: no such runbook")
    if compose_file is not None and not compose_file.is_file():
        raise ConfigError(f"{compose_file}: no such Compose file")
    for manifest in manifest_files:
        if not manifest.is_file():
            raise ConfigError(f"{manifest}: no such manifest")
    return runbook_path, compose_file, manifest_files


_VARIABLE = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _secret_variables(compose: Path) -> dict[str, list[str]]:
    """Each ``${VAR}`` of the Compose file that has no default, with the services naming it:
    drillbook reads no shell environment, so these become generated secrets."""
    import yaml

    try:
        data = yaml.safe_load(compose.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # check-project reports the file's own error with its line
    services = data.get("services") if isinstance(data, dict) else None
    found: dict[str, list[str]] = {}
    for name, body in (services or {}).items():
        for match in _VARIABLE.finditer(json.dumps(body)):
            var = match.group(1) or match.group(2)
            users = found.setdefault(var, [])
            if str(name) not in users:
                users.append(str(name))
    return found


def _unique(taken: dict[str, str], name: str) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    return candidate

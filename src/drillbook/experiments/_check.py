"""Check a Chaos Toolkit experiment file before running it: its shape, and every drillbook
activity it names (module, function, arguments), with errors naming the file, line and field.

``chaos run`` reports a misspelt function or argument only when it reaches that activity, in
the middle of an experiment, with the fault possibly injected; this finds it first.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from drillbook.errors import ConfigError

__all__ = ["ExperimentSummary", "check_experiment"]

_SECTIONS = ("method", "rollbacks")
_INJECTED = {"configuration", "secrets"}  # Chaos Toolkit passes these itself


@dataclass(frozen=True)
class ExperimentSummary:
    path: str
    title: str
    activities: int


class _Where:
    """Lines of a YAML document by field path, from its composed node tree."""

    def __init__(self, text: str) -> None:
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            self.root = None

    def line(self, path: tuple[object, ...]) -> int:
        node, line = self.root, 1
        for key in path:
            if node is None:
                break
            line = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                node = node.value[key] if key < len(node.value) else None
            else:
                node = None
        return node.start_mark.line + 1 if node is not None else line


def _field(path: tuple[object, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(document)"


def check_experiment(path: Path) -> ExperimentSummary:
    """Raise :class:`~drillbook.errors.ConfigError` (``FILE:LINE: FIELD: what was expected``)
    for the first problem; return a summary when the experiment is sound."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the experiment: {exc}") from None
    try:
        data = yaml.safe_load(text) if path.suffix != ".json" else _json(text, path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from None
    where = _Where(text)

    def fail(at: tuple[object, ...], message: str) -> ConfigError:
        return ConfigError(f"{path}:{where.line(at)}: {_field(at)}: {message}")

    if not isinstance(data, dict):
        raise fail((), "expected a mapping with title and method (a Chaos Toolkit experiment)")
    if not isinstance(data.get("title"), str) or not data["title"].strip():
        raise fail(("title",), "expected a non-empty string")
    if not isinstance(data.get("method"), list) or not data["method"]:
        raise fail(("method",), "expected a non-empty list of activities")
    activities: list[tuple[tuple[object, ...], object]] = []
    steady = data.get("steady-state-hypothesis")
    if steady is not None:
        if not isinstance(steady, dict) or not isinstance(steady.get("probes", []), list):
            raise fail(("steady-state-hypothesis",), "expected a mapping with a list of probes")
        for i, a in enumerate(steady.get("probes", [])):
            activities.append((("steady-state-hypothesis", "probes", i), a))
    for section in _SECTIONS:
        items = data.get(section, [])
        if not isinstance(items, list):
            raise fail((section,), "expected a list of activities")
        activities += [((section, i), a) for i, a in enumerate(items)]
    for at, activity in activities:
        _check_activity(at, activity, fail)
    return ExperimentSummary(str(path), data["title"], len(activities))


def _json(text: str, path: Path) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None


def _check_activity(
    at: tuple[object, ...], activity: object, fail: Callable[[tuple[object, ...], str], Exception]
) -> None:
    if isinstance(activity, str):
        return  # a reference to an activity defined elsewhere in the experiment, by name
    if not isinstance(activity, dict):
        raise fail(at, "expected an activity (a mapping with type, name and provider)")
    if activity.get("type") not in ("action", "probe"):
        raise fail((*at, "type"), f"expected 'action' or 'probe', got {activity.get('type')!r}")
    if not isinstance(activity.get("name"), str):
        raise fail((*at, "name"), "expected a string")
    provider = activity.get("provider")
    if not isinstance(provider, dict):
        raise fail((*at, "provider"), "expected a mapping with type (python, http, process)")
    if provider.get("type") != "python":
        if provider.get("type") not in ("http", "process"):
            raise fail((*at, "provider", "type"), "expected python, http or process")
        return  # not drillbook's: chaos checks those
    module, func = provider.get("module"), provider.get("func")
    if not isinstance(module, str) or not module:
        raise fail((*at, "provider", "module"), "expected a module name")
    if not isinstance(func, str) or not func:
        raise fail((*at, "provider", "func"), "expected a function name")
    args = provider.get("arguments", {})
    if not isinstance(args, dict):
        raise fail((*at, "provider", "arguments"), "expected a mapping of argument names")
    if not module.startswith("drillbook."):
        return  # another extension's: its own loader checks it
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise fail((*at, "provider", "module"), f"no drillbook module {module!r}") from None
    public = getattr(mod, "__all__", [n for n in dir(mod) if not n.startswith("_")])
    target = getattr(mod, func, None) if func in public else None
    if not callable(target):
        raise fail(
            (*at, "provider", "func"),
            f"{module} has no activity {func!r}; it has: {', '.join(sorted(public))}",
        )
    params = inspect.signature(target).parameters
    unknown = sorted(str(k) for k in args if k not in params or k in _INJECTED)
    if unknown:
        raise fail(
            (*at, "provider", "arguments"),
            f"{func}() takes no argument {', '.join(map(repr, unknown))}; it takes: "
            f"{', '.join(p for p in params if p not in _INJECTED) or 'none'}",
        )
    missing = [
        n
        for n, p in params.items()
        if p.default is inspect.Parameter.empty and n not in args and n not in _INJECTED
    ]
    if missing:
        raise fail((*at, "provider", "arguments"), f"{func}() needs {', '.join(missing)}")

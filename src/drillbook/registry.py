"""Registries: faults, probes and environments by name, so plans and experiments written as
data (YAML, JSON) name them, and a bad name or parameter is a clear error, never a traceback.

>>> FAULTS.create("kill_container", {"service": "backend"}, where="plan.yaml: scenarios[0].fault")
KillContainer(service='backend', signal='SIGKILL')
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from drillbook.errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")

_SCALARS: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
}


class Registry(Generic[T]):
    """Named factories of one kind (``fault``, ``probe``, ``environment``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def add(self, name: str, factory: Callable[..., T]) -> None:
        if name in self._factories:
            raise ConfigError(f"{self.kind} {name!r} is registered twice")
        self._factories[name] = factory

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Class decorator: ``@FAULTS.register("kill_container")``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self.add(name, factory)
            return factory

        return decorate

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def get(self, name: str) -> Callable[..., T]:
        try:
            return self._factories[name]
        except (KeyError, TypeError):
            raise ConfigError(
                f"unknown {self.kind} {name!r}",
                hint=f"known {self.kind}s: {', '.join(self.names()) or 'none'}",
            ) from None

    def create(self, name: str, params: Mapping[str, Any] | None = None, *, where: str = "") -> T:
        """Build ``name`` from ``params``, checking each against the factory's fields first.

        ``where`` prefixes errors (a file and a path in it, e.g. ``plan.yaml: scenarios[2]``).
        """
        prefix = f"{where}: " if where else ""
        if not isinstance(name, str) or name not in self._factories:
            shown = (
                f"unknown {self.kind} {name!r}"
                if isinstance(name, str)
                else (f"{self.kind} name must be a string, got {name!r}")
            )
            raise ConfigError(
                f"{prefix}{shown}",
                hint=f"known {self.kind}s: {', '.join(self.names()) or 'none'}",
            )
        factory = self._factories[name]
        if params is not None and not isinstance(params, Mapping):
            raise ConfigError(
                f"{prefix}{self.kind} {name}: parameters must be a mapping, got {params!r}"
            )
        given = dict(params or {})
        if dataclasses.is_dataclass(factory) and isinstance(factory, type):
            given = _check_fields(factory, given, f"{prefix}{self.kind} {name}")
        try:
            return factory(**given)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{prefix}{self.kind} {name}: {exc}") from exc


def _check_fields(cls: type, given: dict[str, Any], what: str) -> dict[str, Any]:
    # a field named _like_this is the object's own state (what a fault saved to revert)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ConfigError(
            f"{what}: unknown parameter {unknown[0]!r}",
            hint=f"its parameters are: {', '.join(fields) or 'none'}",
        )
    missing = [
        n
        for n, f in fields.items()
        if n not in given
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{what}: missing parameter {missing[0]!r}")
    checked: dict[str, Any] = {}
    for key, value in given.items():
        checked[key] = _coerce(value, hints.get(key, Any), f"{what}: parameter {key!r}")
    return checked


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against a simple annotation (scalars, optionals, tuples of scalars)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: unexpected {value!r}")
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) > 1 and args[1] is not Ellipsis:  # tuple[str, int]: one type per place
            if len(value) != len(args):
                raise ConfigError(f"{where}: expected a list of {len(args)}, got {value!r}")
            return tuple(
                _coerce(v, a, f"{where}[{i}]")
                for i, (v, a) in enumerate(zip(value, args, strict=True))
            )
        inner = args[0] if args else Any
        return tuple(_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value))
    if hint in _SCALARS:
        ok = (
            isinstance(value, bool)
            if hint is bool
            else isinstance(value, hint) and not isinstance(value, bool)
        )
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            raise ConfigError(f"{where}: expected {_SCALARS[hint]}, got {value!r}")
        return value
    return value

"""YAML read with its node marks, so every complaint about a file names its line and field.

Shared by the files people write by hand (game-day plans, drill projects)::

    drills/gameday/quarterly.yaml:14: scenarios[0].drill: unknown drill 'backend-kiled'

:func:`compose_text` turns text into nodes (a syntax error named with its line);
:class:`Reader` reads the nodes, raising :class:`ConfigError` ``FILE:LINE: field: expected``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from drillbook.errors import ConfigError

__all__ = [
    "NULL",
    "NUMBERS",
    "Reader",
    "compose_documents",
    "compose_text",
    "kind",
    "line_of",
    "read_text",
    "read_yaml",
    "to_python",
]

NULL = "tag:yaml.org,2002:null"
NUMBERS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def read_text(path: Path, what: str, hint: str | None = None) -> str:
    """The text of the file a person wrote (``what``: "game-day plan", "drill file"); a
    missing or unreadable one is a ConfigError naming it (``hint``: where such files are)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}", hint=hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc}") from None


def read_yaml(path: Path, what: str, hint: str | None = None) -> Node | None:
    """The node tree of the YAML file at ``path`` (None when empty): :func:`read_text`, then
    :func:`compose_text` (a syntax error named with its line)."""
    return compose_text(path, read_text(path, what, hint), f"a {what}")


def compose_text(path: Path | str, text: str, what: str) -> Node | None:
    """The node tree of ``text`` (``None`` when empty); raises ConfigError ``FILE:LINE: not
    valid YAML: ...``. ``what`` names the document in the too-deep message (``a plan``)."""
    found = _compose(path, text, what, all_documents=False)
    return found[0] if found else None


def compose_documents(path: Path | str, text: str, what: str) -> list[Node]:
    """The node tree of each document of a multi-document text (Kubernetes manifests)."""
    return _compose(path, text, what, all_documents=True)


def _compose(path: Path | str, text: str, what: str, *, all_documents: bool) -> list[Node]:
    try:
        if all_documents:
            return [n for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        return [node] if node is not None else []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(f"{path}:{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses (a control character)
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(f"{path}:{line}: not valid YAML: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}:1: not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}:1: not valid as {what}: nested too deeply") from None


def line_of(node: Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def kind(node: Node | None) -> str:
    """What a node is, for messages: ``a mapping``, ``an empty list``, ``'text'``, ``nothing``."""
    if isinstance(node, MappingNode):
        return "a mapping" if node.value else "an empty mapping"
    if isinstance(node, SequenceNode):
        return "a list" if node.value else "an empty list"
    if isinstance(node, ScalarNode):
        return "nothing" if node.tag == NULL or node.value == "" else repr(node.value)
    return "nothing"


def to_python(node: Node, path: Path | str) -> Any:
    """The plain value of a node (parameters handed to a registry)."""
    try:
        return yaml.SafeLoader("").construct_document(node)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}:{line_of(node)}: not a plain value: {exc}") from None


@dataclass
class Reader:
    """Reads nodes of one file; every complaint names the file, the node's line and the field."""

    path: Path

    def fail(
        self, node: Node | None, where: str, message: str, hint: str | None = None
    ) -> NoReturn:
        raise ConfigError(f"{self.path}:{line_of(node)}: {where}: {message}", hint=hint)

    def mapping(
        self, node: Node, where: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, tuple[Node, Node]]:
        """The keys of a mapping node with their key and value nodes; unknown or duplicate keys
        and missing required ones are errors."""
        if not isinstance(node, MappingNode):
            wanted = f"with {', '.join(required)}" if required else f"({', '.join(optional)})"
            self.fail(node, where, f"expected a mapping {wanted}, got {kind(node)}")
        found: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name not in (*required, *optional):
                self.fail(
                    key,
                    where,
                    f"unknown field {name if name is not None else kind(key)!r}",
                    hint=f"fields here: {', '.join((*required, *optional))}",
                )
            if name in found:
                self.fail(key, f"{where}.{name}", "given twice")
            found[name] = (key, value)
        for name in required:
            if name not in found:
                self.fail(node, where, f"missing field {name!r}")
        return found

    def text(self, node: Node, where: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag == NULL or not node.value.strip():
            self.fail(node, where, f"expected a non-empty text, got {kind(node)}")
        return str(node.value).strip()

    def items(self, node: Node, where: str) -> list[Node]:
        if not isinstance(node, SequenceNode) or not node.value:
            self.fail(node, where, f"expected a non-empty list, got {kind(node)}")
        return list(node.value)

    def seconds(self, node: Node, where: str) -> float:
        value = math.nan
        if isinstance(node, ScalarNode) and node.tag in NUMBERS:
            try:
                value = float(node.value)
            except ValueError:
                value = math.nan
        if not (math.isfinite(value) and value > 0):
            self.fail(node, where, f"expected a positive number of seconds, got {kind(node)}")
        return value

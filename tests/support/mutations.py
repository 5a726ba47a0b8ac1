"""Hypothesis strategies that mutate the project's real input files, shared by the fuzz tests
that feed them through the CLI (runbooks, experiments, schedules, game-day plans, drill
projects): as text (a slice cut, replaced, inserted or duplicated) and as a YAML tree (a field
replaced, deleted or added)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: what a hand edit or a bad paste brings: YAML and JSON syntax, digits, a NUL, a non-ASCII letter
JUNK = list(":-[]{}\"'#|>&*!`\t\n 0123456789.,ae\x00é")


@st.composite
def text_mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` with one to four edits: a slice cut, a slice moved, characters replaced or
    added."""
    out = text
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(out)))
        j = draw(st.integers(i, min(len(out), i + 200)))
        edit = draw(st.sampled_from(["cut", "insert", "replace", "duplicate"]))
        junk = draw(st.text(st.sampled_from(JUNK), max_size=20))
        if edit == "cut":
            out = out[:i] + out[j:]
        elif edit == "insert":
            out = out[:i] + junk + out[i:]
        elif edit == "replace":
            out = out[:i] + junk + out[j:]
        else:
            out = out[:j] + out[i:j] + out[j:]
    return out


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a loaded YAML document, the root included, as keys and indexes."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += paths(value, (*prefix, i))
    return found


def mutate(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    """A copy of ``doc`` with the node at ``path`` replaced by ``value``, deleted, or (in a
    mapping) ``value`` added beside it under an unknown key; ``doc`` itself is left as it is."""
    if not path:
        return value if action == "replace" else doc
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        copy = dict(doc)
        if not rest and action == "delete":
            copy.pop(head, None)
        elif not rest and action == "add":
            copy[f"{head}-extra"] = value
        else:
            copy[head] = mutate(doc[head], rest, action, value)
        return copy
    items = list(doc)
    if not rest and action == "delete":
        del items[head]
    else:
        items[head] = mutate(doc[head], rest, action, value)
    return items

"""Malformed plan files give a ConfigError naming the file and line, never a traceback."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from drillbook.drills import default_runbook
from drillbook.drills.catalog import docker_drills
from drillbook.errors import ConfigError
from drillbook.gameday import Plan, load_plan
from support.mutations import mutate, paths

CATALOGUE = docker_drills(default_runbook())
SMOKE = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "drills" / "gameday" / "smoke.yaml").read_text()
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["on-call", "exchanges-lost", "human", "automation", "time_to_respond", "1"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _check(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            plan: Plan | ConfigError = load_plan(path, CATALOGUE)
        except ConfigError as exc:
            plan = exc
        if isinstance(plan, ConfigError):
            assert re.match(rf"{re.escape(str(path))}:\d+: \S", str(plan)), str(plan)


@given(
    st.data(),
    st.sampled_from(["replace", "delete", "add"]),
    values,
)
def test_a_mutated_plan_loads_or_says_where_it_is_wrong(
    data: st.DataObject, action: str, value: Any
) -> None:
    path = data.draw(st.sampled_from(paths(SMOKE)))
    _check(yaml.safe_dump(mutate(SMOKE, path, action, value), allow_unicode=True))


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_text_loads_or_says_where_it_is_wrong(text: str) -> None:
    _check(text)


@pytest.mark.parametrize("depth", [10, 1000, 3000])
def test_deep_nesting_is_an_error_not_a_crash(depth: int) -> None:
    _check("roles: " + "[" * depth + "]" * depth + "\nscenarios: [1]\n")

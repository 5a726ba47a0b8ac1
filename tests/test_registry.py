"""Registries: faults, probes and environments by name, built from data with clear errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.environments import ENVIRONMENTS
from drillbook.errors import ConfigError
from drillbook.faults import FAULTS, Fault, KillContainer, PriceShock
from drillbook.probes import PROBES, HttpProbe
from drillbook.registry import Registry


def test_every_fault_class_is_registered() -> None:
    from drillbook import faults

    classes = {getattr(faults, n) for n in faults.__all__ if n[0].isupper() and n != "FAULTS"}
    registered = {FAULTS.get(n) for n in FAULTS.names()}
    assert classes - {Fault} == registered


def test_create_from_data() -> None:
    assert FAULTS.create("kill_container", {"service": "backend"}) == KillContainer("backend")
    assert FAULTS.create("price_shock", {"symbols": ["BTC/USDT"], "percent": 300}) == PriceShock(
        ("BTC/USDT",), 300.0
    )
    assert PROBES.create("http", {"service": "backend", "port": "health", "path": "/health"}) == (
        HttpProbe("backend", "health", "/health")
    )
    assert "docker" in ENVIRONMENTS


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("kill", {}, r"plan\.yaml: scenarios\[0\]: unknown fault 'kill'"),
        ("kill_container", {}, r"fault kill_container: missing parameter 'service'"),
        ("kill_container", {"service": 3}, r"parameter 'service': expected a string, got 3"),
        ("block_peer", {"service": "b", "port": 1}, r"unknown parameter 'port'"),
        ("price_shock", {"percent": -100}, r"a price cannot fall 100% or more"),
        ("price_shock", {"symbols": "BTC/USDT"}, r"parameter 'symbols': expected a list"),
        ("exchange_rate_limited", {"duration_s": "8"}, r"'duration_s': expected a number"),
        ("kill_container", ["backend"], r"parameters must be a mapping"),
        (7, {}, r"fault name must be a string, got 7"),
    ],
)
def test_bad_data_names_the_place_and_what_was_expected(
    name: Any, params: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        FAULTS.create(name, params, where="plan.yaml: scenarios[0]")


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        PROBES.get("ping")
    assert info.value.hint == "known probes: " + ", ".join(sorted(PROBES.names()))
    assert "http" in PROBES.names()


def test_a_name_is_registered_once() -> None:
    reg: Registry[object] = Registry("thing")
    reg.add("a", object)
    with pytest.raises(ConfigError, match="registered twice"):
        reg.add("a", object)


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(
    name=st.sampled_from([*FAULTS.names(), "nope"]) | st.integers(),
    params=st.dictionaries(
        st.sampled_from(["service", "signal", "peer_port", "percent", "symbols", "x"]),
        _values,
        max_size=4,
    )
    | _values,
)
def test_any_data_builds_a_fault_or_fails_with_a_config_error(name: Any, params: Any) -> None:
    """Fuzzed plan data: a fault object or a ConfigError, never another exception."""
    try:
        fault = FAULTS.create(name, params, where="fuzz.yaml")
    except ConfigError as exc:
        error = str(exc)
    else:
        assert isinstance(fault, Fault)
        return
    assert error.startswith("fuzz.yaml: ")

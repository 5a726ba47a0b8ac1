"""The NetworkPolicy evaluator: the stack's own policies, a deny-all alone and in company, and
properties of additive policies (Hypothesis). No cluster needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from drillbook.environments.kubernetes._netpol import Endpoint, allows, selects

ROOT = Path(__file__).resolve().parents[2]
STACK = [
    d
    for d in yaml.safe_load_all((ROOT / "fixtures/k8s/network-policies.yaml").read_text())
    if d and d.get("kind") == "NetworkPolicy"
]
BACKEND, POSTGRES = Endpoint({"app": "backend"}), Endpoint({"app": "postgres"})
FRONTEND = Endpoint({"app": "frontend"})


def deny_all_egress(selector: dict[str, str]) -> dict[str, Any]:
    """What chaostoolkit-kubernetes' deny_all_egress creates."""
    return {
        "metadata": {"name": "chaostoolkit-deny-all-egress", "namespace": "trading-bot"},
        "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": ["Egress"]},
    }


def test_the_stack_policies_let_the_backend_reach_postgres_and_nobody_else() -> None:
    ok, why = allows(STACK, BACKEND, POSTGRES, 5432)
    assert ok, why
    assert "backend-egress" in why
    assert "postgres-ingress" in why
    denied, why = allows(STACK, FRONTEND, POSTGRES, 5432)
    assert not denied
    assert why.startswith("ingress denied")
    assert "postgres-ingress" in why
    wrong_port, _ = allows(STACK, BACKEND, POSTGRES, 5433)
    assert not wrong_port


def test_a_deny_all_is_additive_it_cuts_only_where_nothing_else_allows() -> None:
    """chaostoolkit-kubernetes' deny_all_egress beside the stack's backend-egress changes
    nothing; with backend-egress gone the backend is cut off."""
    deny = deny_all_egress({"app": "backend"})
    assert allows([*STACK, deny], BACKEND, POSTGRES, 5432)[0]
    without = [p for p in STACK if p["metadata"]["name"] != "backend-egress"]
    ok, why = allows([*without, deny], BACKEND, POSTGRES, 5432)
    assert not ok
    assert why == ("egress denied: selected by chaostoolkit-deny-all-egress and no rule allows it")


def test_named_ports_ranges_and_namespace_selectors() -> None:
    dst = Endpoint({"app": "backend"}, named_ports={"health": 8080})
    policy = {
        "metadata": {"name": "p", "namespace": "trading-bot"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "backend"}},
            "ingress": [
                {
                    "from": [{"namespaceSelector": {"matchLabels": {"team": "sre"}}}],
                    "ports": [{"port": "health"}, {"port": 9000, "endPort": 9010}],
                }
            ],
        },
    }
    sre = Endpoint({"app": "prometheus"}, namespace="monitoring", namespace_labels={"team": "sre"})
    other = Endpoint({"app": "prometheus"}, namespace="other")
    assert allows([policy], sre, dst, 8080)[0]
    assert allows([policy], sre, dst, 9005)[0]
    assert not allows([policy], sre, dst, 9011)[0]
    assert not allows([policy], other, dst, 8080)[0]
    assert not allows([policy], sre, dst, 8080, "UDP")[0]


def test_an_unknown_selector_operator_is_named() -> None:
    with pytest.raises(ValueError, match="operator 'Near'"):
        selects({"matchExpressions": [{"key": "a", "operator": "Near"}]}, {"a": "b"})


labels = st.dictionaries(
    st.sampled_from(["app", "tier", "role"]), st.sampled_from(["a", "b", "c"]), max_size=3
)
selector = st.builds(lambda m: {"matchLabels": m}, labels)
port = st.integers(1, 10)
rule = st.fixed_dictionaries(
    {},
    optional={
        "to": st.lists(st.builds(lambda s: {"podSelector": s}, selector), max_size=2),
        "ports": st.lists(st.builds(lambda p: {"port": p}, port), max_size=2),
    },
)
policy = st.builds(
    lambda name, sel, rules: {
        "metadata": {"name": name, "namespace": "trading-bot"},
        "spec": {"podSelector": sel, "policyTypes": ["Egress"], "egress": rules},
    },
    st.text("abc", min_size=1, max_size=3),
    selector,
    st.lists(rule, max_size=2),
)


@given(st.lists(policy, max_size=4), labels, labels, port, st.permutations(range(4)))
def test_the_verdict_does_not_depend_on_policy_order(
    policies: list[dict[str, Any]],
    src: dict[str, str],
    dst: dict[str, str],
    p: int,
    order: list[int],
) -> None:
    shuffled = [policies[i] for i in order if i < len(policies)]
    a, b = Endpoint(src), Endpoint(dst)
    assert allows(policies, a, b, p)[0] == allows(shuffled, a, b, p)[0]


@given(st.lists(policy, max_size=4), policy, labels, labels, port)
def test_adding_a_policy_that_selects_an_already_restricted_pod_never_denies_more(
    policies: list[dict[str, Any]],
    extra: dict[str, Any],
    src: dict[str, str],
    dst: dict[str, str],
    p: int,
) -> None:
    """Additivity: once some policy restricts a pod, another one can only allow more."""
    a, b = Endpoint(src), Endpoint(dst)
    restricted = any(selects(x["spec"]["podSelector"], src) for x in policies)
    if restricted and allows(policies, a, b, p)[0]:
        assert allows([*policies, extra], a, b, p)[0]


@given(labels, labels, port)
def test_no_policy_allows_everything_and_a_deny_all_on_the_source_denies_everything(
    src: dict[str, str], dst: dict[str, str], p: int
) -> None:
    a, b = Endpoint(src), Endpoint(dst)
    assert allows([], a, b, p)[0]
    everything = {
        "metadata": {"name": "deny", "namespace": "trading-bot"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
    }
    assert not allows([everything], a, b, p)[0]

"""The node agent's decisions, without a cluster: the iptables rules NetworkPolicy compiles to
(the stack's own policies, each kind of peer and port, deny-all, Hypothesis properties), the
rules' application through a fake runner, and which volumes the provisioner makes and deletes."""

from __future__ import annotations

import ast
import json
import random
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.environments.kubernetes import node_agent as agent
from drillbook.environments.kubernetes._agent import (
    LOCAL_PATH_PROVISIONER,
    node_agent_objects,
    node_agent_source,
)
from drillbook.environments.kubernetes.node_agent import (
    CHAIN,
    ESTABLISHED,
    Api,
    ApiError,
    Firewall,
    compile_rules,
    pod_chain_name,
    restore_text,
    volume_dir,
    volumes_to_create,
    volumes_to_delete,
)

ROOT = Path(__file__).resolve().parents[2]
STACK = [
    d
    for d in yaml.safe_load_all((ROOT / "fixtures/k8s/network-policies.yaml").read_text())
    if d and d.get("kind") == "NetworkPolicy"
]
NS = "trading-bot"


def pod(
    name: str,
    ip: str | None,
    node: str = "n1",
    labels: dict[str, str] | None = None,
    namespace: str = NS,
    ports: dict[str, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A pod as the API serves it; ``labels`` default to ``app: <name>``."""
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": "c",
                    "ports": [{"name": k, "containerPort": v} for k, v in (ports or {}).items()],
                }
            ],
            **extra.get("spec", {}),
        },
        "status": {"phase": extra.get("phase", "Running"), **({"podIP": ip} if ip else {})},
    }


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


def policy(name: str, spec: dict[str, Any], ns: str = NS) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


def chain_of(direction: str, name: str, ns: str = NS) -> str:
    return pod_chain_name(direction, ns, name)


def body(rules: list[str], chain: str) -> list[str]:
    """The rules of ``chain`` without the ``-A CHAIN`` prefix."""
    prefix = f"-A {chain} "
    return [line[len(prefix) :] for line in rules if line.startswith(prefix)]


# backend and redis on n1; postgres, the exchange and the backup pod on n2
PODS = [
    pod("backend", "10.244.1.2", "n1"),
    pod("redis", "10.244.1.3", "n1"),
    pod("postgres", "10.244.2.2", "n2", ports={"postgres": 5432}),
    pod("exchange", "10.244.2.3", "n2"),
    pod("backup-pod", "10.244.2.4", "n2"),
]
NAMESPACES = [namespace(NS), namespace("kube-system")]


def test_the_stack_policies_on_the_backend_node_cut_its_egress_to_what_the_policy_lists() -> None:
    rules = compile_rules("n1", PODS, NAMESPACES, STACK)
    egress = chain_of("Egress", "backend")
    assert rules[:3] == ["*filter", f":{CHAIN} - [0:0]", f":{egress} - [0:0]"]
    assert body(rules, CHAIN) == [
        "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        f'-s 10.244.1.2 -m comment --comment "{NS}/backend egress" -j {egress}',
    ]
    assert body(rules, egress) == [
        "-d 10.244.1.3 -p tcp --dport 6379 -j RETURN",  # redis
        "-d 10.244.2.2 -p tcp --dport 5432 -j RETURN",  # postgres
        "-d 10.244.2.3 -p tcp --dport 8101 -j RETURN",  # the exchange, two ports
        "-d 10.244.2.3 -p tcp --dport 8102 -j RETURN",
        "-p tcp --dport 53 -j RETURN",  # DNS, to any peer
        "-p udp --dport 53 -j RETURN",
        "-j DROP",
    ]
    assert rules[-1] == "COMMIT"
    # postgres (n2) is isolated for ingress, but enforced by n2's agent, not here
    assert chain_of("Ingress", "postgres") not in "\n".join(rules)


def test_the_stack_policies_on_the_postgres_node_admit_the_backend_and_the_backup_pod() -> None:
    rules = compile_rules("n2", PODS, NAMESPACES, STACK)
    ingress = chain_of("Ingress", "postgres")
    assert body(rules, CHAIN) == [
        "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        f'-d 10.244.2.2 -m comment --comment "{NS}/postgres ingress" -j {ingress}',
    ]
    assert body(rules, ingress) == [
        "-s 10.244.1.2 -p tcp --dport 5432 -j RETURN",  # backend
        "-s 10.244.2.4 -p tcp --dport 5432 -j RETURN",  # backup-pod (postgres-backup: none)
        "-j DROP",
    ]
    # the exchange and the backup pod are selected by no policy: no chain
    assert sum(line.startswith(":DBNP-") for line in rules) == 1


def test_pods_not_enforced_here_get_no_chain() -> None:
    deny_all = policy("deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    pods = [
        pod("other-node", "10.244.2.9", "n2"),
        pod("host", "172.18.0.2", "n1", spec={"hostNetwork": True}),
        pod("no-ip", None, "n1", phase="Pending"),
        pod("done", "10.244.1.9", "n1", phase="Succeeded"),
        pod("v6", "fd00::5", "n1"),
    ]
    assert compile_rules("n1", pods, NAMESPACES, [deny_all]) == [
        "*filter",
        f":{CHAIN} - [0:0]",
        "COMMIT",
    ]


def test_a_policy_selecting_nothing_gives_no_chain() -> None:
    nobody = policy("nobody", {"podSelector": {"matchLabels": {"app": "ghost"}}})
    elsewhere = policy("elsewhere", {"podSelector": {}}, ns="kube-system")
    assert compile_rules("n1", PODS, NAMESPACES, [nobody, elsewhere]) == [
        "*filter",
        f":{CHAIN} - [0:0]",
        "COMMIT",
    ]


def test_a_deny_all_drops_everything_of_every_pod_of_the_namespace_on_the_node() -> None:
    deny = policy("deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    rules = compile_rules("n1", PODS, NAMESPACES, [deny])
    for name in ("backend", "redis"):
        for direction in ("Ingress", "Egress"):
            assert body(rules, chain_of(direction, name)) == ["-j DROP"]
    jumps = body(rules, CHAIN)
    assert jumps[0] == "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
    # every egress jump before every ingress jump: an allowed packet RETURNs to the next
    assert [j.split()[0] for j in jumps[1:]] == ["-s", "-s", "-d", "-d"]


def test_policy_types_default_to_ingress_plus_egress_when_egress_rules_are_given() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "backend"}},
        "egress": [{"ports": [{"port": 53}]}],
    }
    rules = compile_rules("n1", PODS, NAMESPACES, [policy("p", spec)])
    assert body(rules, chain_of("Egress", "backend")) == ["-p tcp --dport 53 -j RETURN", "-j DROP"]
    assert body(rules, chain_of("Ingress", "backend")) == ["-j DROP"]  # no ingress rules
    only_ingress = {"podSelector": {"matchLabels": {"app": "backend"}}, "ingress": [{}]}
    rules = compile_rules("n1", PODS, NAMESPACES, [policy("p", only_ingress)])
    assert body(rules, chain_of("Ingress", "backend")) == ["-j RETURN", "-j DROP"]  # all peers
    assert chain_of("Egress", "backend") not in "\n".join(rules)


def test_namespace_selectors_alone_and_with_a_pod_selector() -> None:
    pods = [
        *PODS,
        pod("prom", "10.244.2.10", "n2", namespace="monitoring"),
        pod("grafana", "10.244.2.11", "n2", namespace="monitoring"),
        pod("prom", "10.244.2.12", "n2", namespace="sandbox"),
    ]
    namespaces = [*NAMESPACES, namespace("monitoring", team="ops"), namespace("sandbox")]
    spec = {
        "podSelector": {"matchLabels": {"app": "redis"}},
        "ingress": [
            {"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}]},
            {
                "from": [
                    {
                        # by the label the API server puts on every namespace
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "sandbox"}
                        },
                        "podSelector": {"matchLabels": {"app": "prom"}},
                    }
                ],
                "ports": [{"port": 9090}],
            },
        ],
    }
    rules = compile_rules("n1", pods, namespaces, [policy("p", spec)])
    assert body(rules, chain_of("Ingress", "redis")) == [
        "-s 10.244.2.10 -j RETURN",
        "-s 10.244.2.11 -j RETURN",
        "-s 10.244.2.12 -p tcp --dport 9090 -j RETURN",
        "-j DROP",
    ]


def test_an_ip_block_with_exceptions_becomes_the_cidrs_left() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "backend"}},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16", "11.0.0.0/8"]}}
                ],
                "ports": [{"port": 443}],
            },
            {"to": [{"ipBlock": {"cidr": "192.168.1.7/24", "except": ["192.168.0.0/16"]}}]},
            {"to": [{"ipBlock": {"cidr": "fd00::/8"}}]},  # IPv6: not ours to enforce
        ],
    }
    rules = body(
        compile_rules("n1", PODS, NAMESPACES, [policy("p", spec)]), chain_of("Egress", "backend")
    )
    cidrs = [r.split()[1] for r in rules[:-1]]
    assert len(cidrs) == 8  # 10/8 less a /16: one network per prefix length from /9 to /16
    assert "10.244.0.0/16" not in cidrs
    assert "10.0.0.0/9" in cidrs
    assert "10.245.0.0/16" in cidrs
    assert all(r.endswith("-p tcp --dport 443 -j RETURN") for r in rules[:-1])
    assert rules[-1] == "-j DROP"


def test_named_ports_are_looked_up_in_the_destination_pod() -> None:
    pods = [
        pod("backend", "10.244.1.2", "n1", ports={"api": 3000, "health": 8080}),
        pod("postgres", "10.244.1.3", "n1", ports={"postgres": 5432}),
        pod("postgres-2", "10.244.2.2", "n2", labels={"app": "postgres"}, ports={"postgres": 5433}),
    ]
    ingress = policy(
        "in",
        {
            "podSelector": {"matchLabels": {"app": "backend"}},
            "ingress": [{"ports": [{"port": "health"}, {"port": "missing"}]}],
        },
    )
    egress = policy(
        "out",
        {
            "podSelector": {"matchLabels": {"app": "backend"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"podSelector": {"matchLabels": {"app": "postgres"}}}],
                    "ports": [{"port": "postgres"}],
                },
                # every peer: the name is looked up in every pod that has it
                {"ports": [{"port": "api"}, {"port": 53, "protocol": "UDP"}]},
            ],
        },
    )
    rules = compile_rules("n1", pods, NAMESPACES, [ingress, egress])
    assert body(rules, chain_of("Ingress", "backend")) == [
        "-p tcp --dport 8080 -j RETURN",
        "-j DROP",
    ]
    assert body(rules, chain_of("Egress", "backend")) == [
        "-d 10.244.1.2 -p tcp --dport 3000 -j RETURN",
        "-d 10.244.1.3 -p tcp --dport 5432 -j RETURN",
        "-d 10.244.2.2 -p tcp --dport 5433 -j RETURN",
        "-p udp --dport 53 -j RETURN",
        "-j DROP",
    ]


def test_port_ranges_protocols_and_a_protocol_alone() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "backend"}},
        "ingress": [
            {
                "ports": [
                    {"port": 8000, "endPort": 8100},
                    {"protocol": "SCTP", "port": 9000},
                    {"protocol": "UDP"},
                    {"protocol": "ICMP", "port": 1},  # not a NetworkPolicy protocol: ignored
                ]
            }
        ],
    }
    rules = compile_rules("n1", PODS, NAMESPACES, [policy("p", spec)])
    assert body(rules, chain_of("Ingress", "backend")) == [
        "-p sctp --dport 9000 -j RETURN",
        "-p tcp --dport 8000:8100 -j RETURN",
        "-p udp -j RETURN",
        "-j DROP",
    ]


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ({"key": "tier", "operator": "In", "values": ["db", "cache"]}, {"postgres", "redis"}),
        ({"key": "tier", "operator": "NotIn", "values": ["db"]}, {"redis", "backend"}),
        ({"key": "tier", "operator": "Exists"}, {"postgres", "redis"}),
        ({"key": "tier", "operator": "DoesNotExist"}, {"backend"}),
        ({"key": "tier", "operator": "Near", "values": ["db"]}, set()),
    ],
)
def test_match_expressions_select_pods(expression: dict[str, Any], selected: set[str]) -> None:
    pods = [
        pod("postgres", "10.244.1.2", labels={"app": "postgres", "tier": "db"}),
        pod("redis", "10.244.1.3", labels={"app": "redis", "tier": "cache"}),
        pod("backend", "10.244.1.4"),
    ]
    spec = {"podSelector": {"matchExpressions": [expression]}}
    rules = "\n".join(compile_rules("n1", pods, NAMESPACES, [policy("p", spec)]))
    assert {
        p for p in ("postgres", "redis", "backend") if chain_of("Ingress", p) in rules
    } == selected


def test_the_rules_are_the_same_whatever_the_order_of_the_objects() -> None:
    first = compile_rules("n1", PODS, NAMESPACES, STACK)
    shuffled = random.Random(7)
    for _ in range(5):
        pods, policies = list(PODS), list(STACK)
        shuffled.shuffle(pods)
        shuffled.shuffle(policies)
        assert compile_rules("n1", pods, NAMESPACES[::-1], policies) == first


def test_chain_names_fit_iptables() -> None:
    name = pod_chain_name("Ingress", "a" * 63, "b" * 253)
    assert len(name) <= 28
    assert name.startswith("DBNP-I-")
    assert pod_chain_name("Egress", NS, "x") != pod_chain_name("Egress", "trading", "bot-x")


# --- properties ----------------------------------------------------------------------------

KEYS, VALUES, SPACES = ["app", "tier"], ["a", "b"], ["ns1", "ns2"]
labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)
expression_st = st.fixed_dictionaries(
    {
        "key": st.sampled_from(KEYS),
        "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
        "values": st.lists(st.sampled_from(VALUES), max_size=2),
    }
)
selector_st = st.fixed_dictionaries(
    {}, optional={"matchLabels": labels_st, "matchExpressions": st.lists(expression_st, max_size=2)}
)
ip_block_st = st.builds(
    lambda net, holes: {
        "cidr": f"10.{net}.0.0/16",
        "except": [f"10.{net}.{h}.0/24" for h in holes],
    },
    st.integers(0, 255),
    st.lists(st.integers(0, 255), max_size=3),
)
peer_st = st.one_of(
    st.fixed_dictionaries({"podSelector": selector_st}),
    st.fixed_dictionaries({"namespaceSelector": selector_st}),
    st.fixed_dictionaries({"podSelector": selector_st, "namespaceSelector": selector_st}),
    st.fixed_dictionaries({"ipBlock": ip_block_st}),
)
port_st = st.fixed_dictionaries(
    {},
    optional={
        "protocol": st.sampled_from(["TCP", "UDP", "SCTP"]),
        "port": st.one_of(st.integers(1, 65535), st.sampled_from(["http", "metrics"])),
        "endPort": st.integers(1, 65535),
    },
)
rule_st = st.fixed_dictionaries(
    {}, optional={"peers": st.lists(peer_st, max_size=3), "ports": st.lists(port_st, max_size=3)}
)


@st.composite
def policies_st(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": draw(selector_st)}
    for key, peers in (("ingress", "from"), ("egress", "to")):
        rules = draw(st.none() | st.lists(rule_st, max_size=3))
        if rules is not None:
            spec[key] = [
                {
                    **({peers: r["peers"]} if "peers" in r else {}),
                    **({"ports": r["ports"]} if "ports" in r else {}),
                }
                for r in rules
            ]
    types = draw(
        st.none() | st.lists(st.sampled_from(["Ingress", "Egress"]), min_size=1, unique=True)
    )
    if types:
        spec["policyTypes"] = types
    return policy(
        draw(st.text("abc", min_size=1, max_size=3)), spec, ns=draw(st.sampled_from(SPACES))
    )


@st.composite
def pods_st(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 6))
    return [
        pod(
            f"p{i}",
            f"10.244.{i % 2}.{i + 2}",
            draw(st.sampled_from(["n1", "n2"])),
            labels=draw(labels_st),
            namespace=draw(st.sampled_from(SPACES)),
            ports=draw(
                st.dictionaries(st.sampled_from(["http", "metrics"]), st.integers(1, 65535))
            ),
        )
        for i in range(count)
    ]


@settings(max_examples=150, deadline=None)
@given(pods=pods_st(), policies=st.lists(policies_st(), max_size=4), labels=labels_st)
def test_compiling_never_fails_and_every_drop_follows_the_established_accept(
    pods: list[dict[str, Any]], policies: list[dict[str, Any]], labels: dict[str, str]
) -> None:
    namespaces = [namespace("ns1", **labels), namespace("ns2")]
    rules = compile_rules("n1", pods, namespaces, policies)
    assert rules[0] == "*filter"
    assert rules[-1] == "COMMIT"
    assert all(line[:3] in (":DR", ":DB", "-A ") for line in rules[1:-1]), rules
    chains = [line[1:].split()[0] for line in rules if line.startswith(":")]
    assert all(len(c) <= 28 for c in chains)
    main = [line for line in rules if line.startswith(f"-A {CHAIN} ")]
    drops = [line for line in rules if line.endswith("-j DROP")]
    if drops:
        assert main[0] == ESTABLISHED
    for chain in chains[1:]:  # each pod chain: jumped to, and ends with its DROP
        assert body(rules, chain)[-1] == "-j DROP"
        assert any(line.endswith(f"-j {chain}") for line in main)
    assert compile_rules("n1", pods[::-1], namespaces, policies[::-1]) == rules


# --- applying ------------------------------------------------------------------------------


class FakeIptables:
    """The commands the firewall runs, answered from a small model of the filter table."""

    def __init__(self, chains: list[str] | None = None, forward: list[str] | None = None) -> None:
        self.calls: list[tuple[list[str], str | None]] = []
        self.chains = chains or []
        self.forward = forward or []

    def __call__(self, argv: list[str], stdin: str | None) -> str:
        self.calls.append((argv, stdin))
        args = argv[3:] if argv[1:3] == ["-w", "5"] else argv[1:]
        if argv[0] == "iptables" and args == ["-S"]:
            forward = "".join(f"-A FORWARD {r}\n" for r in self.forward)
            return "".join(f"-N {c}\n" for c in self.chains) + forward
        if argv[0] == "iptables" and args == ["-S", "FORWARD"]:
            return "-P FORWARD ACCEPT\n" + "".join(f"-A FORWARD {r}\n" for r in self.forward)
        if argv[0] == "iptables" and args[:2] == ["-D", "FORWARD"]:
            rule = " ".join(args[2:])
            if rule not in self.forward:
                raise RuntimeError("iptables -D: Bad rule")
            self.forward.remove(rule)
        elif argv[0] == "iptables" and args[:3] == ["-I", "FORWARD", "1"]:
            self.forward.insert(0, " ".join(args[3:]))
        elif argv[0] == "iptables-restore":  # what was declared, less what was deleted
            lines = (stdin or "").splitlines()
            declared = {line[1:].split()[0] for line in lines if line.startswith(":")}
            deleted = {line.split()[1] for line in lines if line.startswith("-X ")}
            self.chains = sorted((set(self.chains) | declared) - deleted)
        return ""

    def restores(self) -> list[str]:
        return [stdin or "" for argv, stdin in self.calls if argv[0] == "iptables-restore"]


def test_rules_are_written_once_while_unchanged_and_the_jump_goes_first() -> None:
    iptables = FakeIptables(forward=["-j KUBE-FORWARD", f"-j {CHAIN}"])
    firewall = Firewall(iptables)
    rules = compile_rules("n1", PODS, NAMESPACES, STACK)
    assert firewall.apply(rules)
    assert not firewall.apply(rules)
    assert len(iptables.restores()) == 1
    assert iptables.restores()[0] == "\n".join(rules) + "\n"
    assert iptables.forward == [f"-j {CHAIN}", "-j KUBE-FORWARD"]  # moved, not duplicated
    assert all(argv[0] in ("iptables", "iptables-restore") for argv, _ in iptables.calls)


def test_rules_changed_outside_the_agent_are_written_again() -> None:
    iptables = FakeIptables()
    firewall = Firewall(iptables)
    rules = compile_rules("n1", PODS, NAMESPACES, STACK)
    firewall.apply(rules)
    assert firewall.intact()
    iptables.forward.insert(0, "-j KUBE-FORWARD")  # kube-proxy restarted and prepended
    assert not firewall.intact()
    assert firewall.apply(rules)
    assert iptables.forward[0] == f"-j {CHAIN}"
    iptables.chains.remove(chain_of("Egress", "backend"))  # flushed by hand
    assert not firewall.intact()
    assert firewall.apply(rules)
    assert firewall.intact()
    assert len(iptables.restores()) == 3


def test_chains_of_pods_gone_are_flushed_and_deleted_in_the_same_restore() -> None:
    rules = compile_rules("n1", PODS, NAMESPACES, STACK)
    text = restore_text(
        rules, [CHAIN, "DBNP-I-0000000000", chain_of("Egress", "backend"), "KUBE-X"]
    )
    lines = text.splitlines()
    assert ":DBNP-I-0000000000 - [0:0]" in lines
    assert lines[-2:] == ["-X DBNP-I-0000000000", "COMMIT"]
    assert lines.index(":DBNP-I-0000000000 - [0:0]") < lines.index(ESTABLISHED)
    assert "KUBE-X" not in text
    assert f"-X {chain_of('Egress', 'backend')}" not in text


def test_removing_takes_the_jump_and_every_drillbook_chain() -> None:
    iptables = FakeIptables(
        chains=[CHAIN, "DBNP-E-0123456789", "KUBE-FORWARD"],
        forward=[f"-j {CHAIN}", "-j KUBE-FORWARD", f"-j {CHAIN}"],
    )
    assert Firewall(iptables).remove() == ["DBNP-E-0123456789", CHAIN]
    assert iptables.forward == ["-j KUBE-FORWARD"]
    assert iptables.restores() == [
        "*filter\n:DBNP-E-0123456789 - [0:0]\n:DRILLBOOK-NETPOL - [0:0]\n"
        "-X DBNP-E-0123456789\n-X DRILLBOOK-NETPOL\nCOMMIT\n"
    ]


def test_br_netfilter_is_switched_on_when_it_can_be_and_said_either_way(tmp_path: Path) -> None:
    flag = tmp_path / "bridge-nf-call-iptables"
    flag.write_text("1\n")
    assert "is 1" in agent.bridge_netfilter(flag)
    flag.write_text("0\n")
    assert "set to 1" in agent.bridge_netfilter(flag)
    assert flag.read_text() == "1\n"
    assert "unreadable" in agent.bridge_netfilter(tmp_path / "absent")
    flag.write_text("0\n")
    assert "cannot set it (Read-only file system)" in agent.bridge_netfilter(ReadOnly(flag))


class ReadOnly(type(Path())):  # type: ignore[misc]
    """A path that reads but cannot be written, as /proc/sys in an unprivileged pod."""

    def write_text(self, *args: Any, **kwargs: Any) -> int:
        raise OSError(30, "Read-only file system")


# --- volumes -------------------------------------------------------------------------------

UID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
CLASSES = [
    {
        "metadata": {"name": "standard"},
        "provisioner": LOCAL_PATH_PROVISIONER,
        "reclaimPolicy": "Delete",
    },
    {
        "metadata": {"name": "kept"},
        "provisioner": LOCAL_PATH_PROVISIONER,
        "reclaimPolicy": "Retain",
    },
    {"metadata": {"name": "other"}, "provisioner": "example.com/nfs"},
]


def claim(
    name: str = "postgres-pvc",
    uid: str = UID,
    node: str | None = "n1",
    storage_class: str = "standard",
    provisioner: str = LOCAL_PATH_PROVISIONER,
    annotation: str = "volume.kubernetes.io/storage-provisioner",
    **spec: Any,
) -> dict[str, Any]:
    notes = {annotation: provisioner}
    if node:
        notes["volume.kubernetes.io/selected-node"] = node
    return {
        "metadata": {"name": name, "namespace": NS, "uid": uid, "annotations": notes},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": storage_class,
            **spec,
        },
        "status": {"phase": "Pending"},
    }


def test_a_volume_is_made_for_a_claim_the_scheduler_placed_on_this_node() -> None:
    (volume,) = volumes_to_create("n1", [claim()], CLASSES)
    name = f"pvc-{UID}"
    assert volume == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "annotations": {"pv.kubernetes.io/provisioned-by": LOCAL_PATH_PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": NS,
                "name": "postgres-pvc",
                "uid": UID,
            },
            "hostPath": {"path": f"/var/lib/drillbook/volumes/{name}", "type": "DirectoryOrCreate"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": ["n1"],
                                }
                            ]
                        }
                    ]
                }
            },
        },
    }
    (kept,) = volumes_to_create(
        "n1",
        [claim(storage_class="kept", annotation="volume.beta.kubernetes.io/storage-provisioner")],
        CLASSES,
    )
    assert kept["spec"]["persistentVolumeReclaimPolicy"] == "Retain"


def test_no_volume_for_claims_of_another_node_provisioner_class_or_already_bound() -> None:
    bound = claim(volumeName="pvc-x")
    bound["status"]["phase"] = "Bound"
    waiting_for_binding = claim(volumeName="pvc-x")  # bound by name, not yet in status
    others = [
        claim(node="n2"),
        claim(node=None),  # not scheduled yet (WaitForFirstConsumer)
        claim(provisioner="example.com/nfs"),
        claim(storage_class="other"),
        claim(storage_class="gone"),
        claim(volumeMode="Block"),
        claim(uid="../../etc"),
        bound,
        waiting_for_binding,
    ]
    assert volumes_to_create("n1", others, CLASSES) == []


def volume(name: str = f"pvc-{UID}", node: str = "n1", **changes: Any) -> dict[str, Any]:
    made = volumes_to_create(node, [claim(node=node)], CLASSES)[0]
    made["metadata"]["name"] = name
    made["spec"]["hostPath"]["path"] = f"/var/lib/drillbook/volumes/{name}"
    made["status"] = {"phase": changes.pop("phase", "Released")}
    made["spec"].update(changes)
    return made


def test_only_our_released_volumes_on_this_node_with_reclaim_delete_are_deleted() -> None:
    foreign = volume(name=f"pvc-{UID[:-1]}0")
    foreign["metadata"]["annotations"] = {"pv.kubernetes.io/provisioned-by": "example.com/nfs"}
    volumes = [
        volume(),
        volume(name=f"pvc-{UID[:-1]}1", phase="Bound"),
        volume(name=f"pvc-{UID[:-1]}2", persistentVolumeReclaimPolicy="Retain"),
        volume(name=f"pvc-{UID[:-1]}3", node="n2"),
        foreign,
    ]
    assert volumes_to_delete("n1", volumes) == [f"pvc-{UID}"]


@pytest.mark.parametrize(
    "path",
    [
        "/var/lib/drillbook/volumes/../../../etc",
        "/var/lib/drillbook/volumes",
        "/etc",
        f"/var/lib/drillbook/volumes/pvc-{UID}/..",
        f"/var/lib/drillbook/volumes/pvc-{UID}/../pvc-other",
        None,
    ],
)
def test_a_volume_whose_path_escapes_its_directory_is_never_removed(path: str | None) -> None:
    escaping = volume()
    escaping["spec"]["hostPath"]["path"] = path
    assert volume_dir(escaping) is None
    assert volumes_to_delete("n1", [escaping]) == []
    assert volume_dir(volume()) == Path(f"/var/lib/drillbook/volumes/pvc-{UID}")
    named_badly = volume(name="pvc-..")
    assert volume_dir(named_badly) is None


# --- the API client and the objects -----------------------------------------------------------


@pytest.fixture
def api_server() -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    """A loopback HTTP server answering like the API server; the requests it saw."""
    seen: list[tuple[str, str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept alive, as the API server does

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            seen.append(("GET", self.path, self.headers.get("Authorization")))
            self._answer(200, {"items": [{"metadata": {"name": "a"}}]})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(("POST", self.path, self.headers.get("Authorization")))
            self._answer(409, {"kind": "Status", "message": 'persistentvolumes "x" already exists'})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_client_lists_from_the_cache_with_the_token_and_raises_the_status(
    api_server: tuple[str, list[tuple[str, str, str | None]]], tmp_path: Path
) -> None:
    base, seen = api_server
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    api = Api.from_env(
        {"KUBE_API": base, "KUBE_TOKEN_FILE": str(token), "KUBE_CA_FILE": "/nowhere"}
    )
    try:
        assert api.list("/api/v1/pods") == [{"metadata": {"name": "a"}}]
        assert api.list("/api/v1/namespaces") == [{"metadata": {"name": "a"}}]
        with pytest.raises(ApiError, match="409 persistentvolumes") as raised:
            api.request("POST", "/api/v1/persistentvolumes", {"kind": "PersistentVolume"})
    finally:
        api.close()
    assert raised.value.status == 409
    assert "s3cret" not in str(raised.value)
    assert seen == [
        ("GET", "/api/v1/pods?resourceVersion=0", "Bearer s3cret"),
        ("GET", "/api/v1/namespaces?resourceVersion=0", "Bearer s3cret"),
        ("POST", "/api/v1/persistentvolumes", "Bearer s3cret"),
    ]


def test_the_program_imports_only_the_standard_library() -> None:
    tree = ast.parse(node_agent_source())
    imported = {
        (node.module or "").split(".")[0]
        if isinstance(node, ast.ImportFrom)
        else alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_the_objects_run_the_program_on_every_node_with_the_default_class() -> None:
    objects = node_agent_objects("drillbook/python:lab")
    kinds = [o["kind"] for o in objects]
    assert kinds == [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "DaemonSet",
        "StorageClass",
    ]
    by_kind = {o["kind"]: o for o in objects}
    assert by_kind["ConfigMap"]["data"]["node_agent.py"] == node_agent_source()
    pod_spec = by_kind["DaemonSet"]["spec"]["template"]["spec"]
    (container,) = pod_spec["containers"]
    assert pod_spec["hostNetwork"] is True
    assert pod_spec["tolerations"] == [{"operator": "Exists"}]
    assert container["image"] == "drillbook/python:lab"
    assert container["imagePullPolicy"] == "Never"
    assert container["command"] == ["python3", "/agent/node_agent.py"]
    assert container["securityContext"]["capabilities"]["add"] == ["NET_ADMIN", "NET_RAW"]
    assert container["readinessProbe"]["exec"]["command"] == ["test", "-f", "/tmp/agent-ready"]
    role = by_kind["ClusterRole"]["rules"]
    pv_verbs = next(r["verbs"] for r in role if r["resources"] == ["persistentvolumes"])
    assert {"create", "delete", "list"} <= set(pv_verbs)
    storage = by_kind["StorageClass"]
    assert storage["provisioner"] == LOCAL_PATH_PROVISIONER
    assert storage["volumeBindingMode"] == "WaitForFirstConsumer"
    assert (
        storage["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    )

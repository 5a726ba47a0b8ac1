"""NetworkPolicy semantics, evaluated from the API objects: may a pod with these labels reach a
pod with those labels on this port? What a policy-enforcing CNI (Calico, Cilium) enforces.

The local control plane's nodes are simulated (kwok): no packet flows, so a partition made of
policies is checked here, against the rules the API server holds. On a cluster with a real CNI
the same policies really cut the traffic.

The subset evaluated is what pod-to-pod traffic inside one namespace needs: ``podSelector``
(``matchLabels`` and ``matchExpressions``), ``policyTypes`` (defaulted as the API does), rules
with ``podSelector`` peers, ``namespaceSelector`` peers (matched on the namespace's labels;
``{}`` is every namespace), numeric or named ports with ``endPort``. An ``ipBlock`` peer never
matches a pod here (pod IPs are not stable, and the stack's policies use none for pods).
Policies are additive: traffic is allowed when no policy of the direction selects the pod, or
when any rule of any policy that selects it allows the peer and the port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Endpoint", "allows", "selects"]

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Endpoint:
    """One side of a connection: a pod's labels, its namespace (and that namespace's labels),
    and for a destination the named ports its containers declare (``{"health": 8080}``)."""

    labels: Labels
    namespace: str = "trading-bot"
    namespace_labels: Labels = field(default_factory=dict)
    named_ports: Mapping[str, int] = field(default_factory=dict)


def selects(selector: Mapping[str, Any] | None, labels: Labels) -> bool:
    """A LabelSelector against ``labels``; an empty selector selects everything, a missing
    one (``None``) nothing."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], list(expr.get("values") or [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(
                f"label selector operator {op!r}: expected In, NotIn, Exists or DoesNotExist"
            )
    return True


def _types(spec: Mapping[str, Any]) -> set[str]:
    """``policyTypes`` as the API server defaults it: Ingress always, Egress when egress rules
    are given."""
    given = spec.get("policyTypes")
    if given:
        return set(given)
    return {"Ingress", "Egress"} if spec.get("egress") is not None else {"Ingress"}


def _peer_matches(peer: Mapping[str, Any], policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        return False
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    if namespaces is None:  # only pods of the policy's own namespace
        in_namespace = other.namespace == policy_ns
    else:
        in_namespace = selects(namespaces, other.namespace_labels)
    if not in_namespace:
        return False
    return pods is None or selects(pods, other.labels)


def _port_matches(
    ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str, dst: Endpoint
) -> bool:
    if not ports:
        return True  # no ports listed: every port
    for p in ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        wanted = p.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str) and not wanted.isdigit():
            if dst.named_ports.get(wanted) == port:
                return True
            continue
        low = int(wanted)
        high = int(p.get("endPort") or low)
        if low <= port <= high:
            return True
    return False


def _direction_allows(
    policies: Iterable[Mapping[str, Any]],
    direction: str,
    subject: Endpoint,
    peer: Endpoint,
    port: int,
    protocol: str,
    dst: Endpoint,
) -> tuple[bool, list[str]]:
    """Whether ``direction`` ("Ingress" at the destination, "Egress" at the source) lets the
    traffic through; and the names of the policies that select the subject."""
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting: list[str] = []
    for policy in policies:
        meta, spec = policy.get("metadata") or {}, policy.get("spec") or {}
        ns = meta.get("namespace", subject.namespace)
        if ns != subject.namespace or direction not in _types(spec):
            continue
        if not selects(spec.get("podSelector", {}), subject.labels):
            continue
        selecting.append(str(meta.get("name", "?")))
        for rule in spec.get(rules_key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(_peer_matches(p, ns, peer) for p in peers)
            if peer_ok and _port_matches(rule.get("ports"), port, protocol, dst):
                return True, selecting
    return not selecting, selecting


def allows(
    policies: Iterable[Mapping[str, Any]],
    src: Endpoint,
    dst: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> tuple[bool, str]:
    """Whether traffic from ``src`` to ``dst`` on ``port`` is allowed by ``policies`` (dicts as
    the API serves them), and why, naming the policies that decided it."""
    listed = list(policies)
    out, out_by = _direction_allows(listed, "Egress", src, dst, port, protocol, dst)
    if not out:
        return False, f"egress denied: selected by {', '.join(out_by)} and no rule allows it"
    into, in_by = _direction_allows(listed, "Ingress", dst, src, port, protocol, dst)
    if not into:
        return False, f"ingress denied: selected by {', '.join(in_by)} and no rule allows it"
    return True, (
        f"allowed (egress {'by ' + ', '.join(out_by) if out_by else 'unrestricted'}, "
        f"ingress {'by ' + ', '.join(in_by) if in_by else 'unrestricted'})"
    )

"""The node agent of a real-node cluster: NetworkPolicy enforcement and local-path volumes.

One per node, a DaemonSet on the host network (``_agent.py`` makes its objects). Standard library
only: the lab ships this one file in a ConfigMap to its Python image, ``python3
/agent/node_agent.py``. Every 0.5 s it lists what it needs from the API server, then:

- NetworkPolicy (networking.k8s.io/v1): ``compile_rules`` turns the policies selecting the pods
  of this node into the filter table's ``DRILLBOOK-NETPOL`` chain, jumped to first from FORWARD,
  applied with ``iptables-restore --noflush`` when the text changed. Pod traffic crosses FORWARD
  routed between nodes, and bridged on one node when br_netfilter hands bridged packets to
  iptables. Service traffic is seen with the endpoint's pod IP (kube-proxy DNATs in PREROUTING).
  Traffic of the node itself (kubelet probes) goes through OUTPUT/INPUT: untouched.
- Volumes: ``volumes_to_create`` makes a hostPath PersistentVolume on this node for each claim
  of ``drillbook.io/local-path`` that the scheduler placed here; ``volumes_to_delete`` names the
  released ones whose directory and volume go.

SIGTERM or SIGINT: the chains are removed, exit 0. Environment: NODE_NAME (required); KUBE_API,
KUBE_TOKEN_FILE, KUBE_CA_FILE (default: the in-cluster service account).
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = [
    "CHAIN",
    "PROVISIONER",
    "VOLUMES_ROOT",
    "Api",
    "ApiError",
    "Firewall",
    "compile_rules",
    "main",
    "restore_text",
    "selects",
    "volume_dir",
    "volumes_to_create",
    "volumes_to_delete",
]

CHAIN = "DRILLBOOK-NETPOL"
#: per-pod chains: DBNP-I-<hash> (ingress), DBNP-E-<hash> (egress); 17 characters of 28
POD_CHAIN_PREFIX = "DBNP-"
PROVISIONER = "drillbook.io/local-path"
VOLUMES_ROOT = Path("/var/lib/drillbook/volumes")
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
CLAIM_PROVISIONER = (
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
)
SELECTED_NODE = "volume.kubernetes.io/selected-node"
BRIDGE_NF = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")
READY_FILE = Path("/tmp/agent-ready")
SA = Path("/var/run/secrets/kubernetes.io/serviceaccount")
POLL_S = 0.5
REQUEST_TIMEOUT_S = 5.0
PROTOCOLS = ("TCP", "UDP", "SCTP")
ESTABLISHED = f"-A {CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
_UID = re.compile(r"[0-9a-f][0-9a-f-]{7,63}")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_./ -]")

Obj = Mapping[str, Any]


# --- NetworkPolicy -------------------------------------------------------------------------


def selects(selector: Obj | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector against ``labels``: ``{}`` selects everything, ``None`` nothing; an
    unknown operator selects nothing (the API server rejects one anyway)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(op, False)
        if not ok:
            return False
    return True


def policy_types(spec: Obj) -> set[str]:
    """``policyTypes`` as the API server defaults it: Ingress, plus Egress with egress rules."""
    given = spec.get("policyTypes")
    if given:
        return set(given)
    return {"Ingress", "Egress"} if spec.get("egress") else {"Ingress"}


@dataclass(frozen=True)
class _Pod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ip: str
    node: str
    ports: tuple[tuple[str, str, int], ...]  # (name, protocol, containerPort)


def _pods(raw: Iterable[Obj]) -> list[_Pod]:
    """Pods that have a pod-network IPv4 address and may use it (not finished)."""
    found = []
    for pod in raw:
        meta, spec, status = (
            pod.get("metadata") or {},
            pod.get("spec") or {},
            pod.get("status") or {},
        )
        if spec.get("hostNetwork") or status.get("phase") not in ("Running", "Pending"):
            continue
        try:
            ip = str(ipaddress.IPv4Address(status.get("podIP") or ""))
        except ValueError:
            continue  # no address yet, or IPv6 only: ip6tables is not managed
        ports = tuple(
            (str(p["name"]), str(p.get("protocol") or "TCP"), int(p["containerPort"]))
            for c in spec.get("containers") or []
            for p in c.get("ports") or []
            if p.get("name") and p.get("containerPort")
        )
        found.append(
            _Pod(
                str(meta.get("namespace", "default")),
                str(meta.get("name", "")),
                dict(meta.get("labels") or {}),
                ip,
                str(spec.get("nodeName") or ""),
                ports,
            )
        )
    return sorted(found, key=lambda p: (p.namespace, p.name))


def _ip_block(block: Obj) -> list[str]:
    """An ipBlock as CIDRs: ``cidr`` less each ``except`` (IPv4 only)."""
    try:
        nets = [ipaddress.IPv4Network(str(block.get("cidr")), strict=False)]
    except ValueError:
        return []
    for raw in block.get("except") or []:
        try:
            hole = ipaddress.IPv4Network(str(raw), strict=False)
        except ValueError:
            continue
        kept: list[ipaddress.IPv4Network] = []
        for net in nets:
            if hole.subnet_of(net):
                kept.extend(net.address_exclude(hole))
            elif not net.subnet_of(hole):
                kept.append(net)
        nets = kept
    return [str(n) for n in sorted(nets)]


def _peers(
    peers: Sequence[Obj] | None, policy_ns: str, pods: list[_Pod], ns_labels: Mapping[str, Obj]
) -> dict[str, _Pod | None] | None:
    """The addresses a rule's ``from``/``to`` names (a pod's, for its named ports, or an
    ipBlock's); ``None`` when it names every peer."""
    if not peers:
        return None
    found: dict[str, _Pod | None] = {}
    for peer in peers:
        if peer.get("ipBlock") is not None:
            for net in _ip_block(peer["ipBlock"]):
                found.setdefault(net, None)
            continue
        pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
        if pod_sel is None and ns_sel is None:
            continue
        for pod in pods:
            if ns_sel is None:
                in_ns = pod.namespace == policy_ns
            else:
                in_ns = selects(ns_sel, ns_labels.get(pod.namespace) or _ns_default(pod.namespace))
            if in_ns and (pod_sel is None or selects(pod_sel, pod.labels)):
                found[pod.ip] = pod
    return found


def _ns_default(name: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": name}


def _port_matches(ports: Sequence[Obj], dst: _Pod | None) -> list[str]:
    """iptables matches for a rule's ``ports``; a named port is looked up in ``dst``'s
    containerPorts (it matches nothing when ``dst`` is unknown or lacks it)."""
    out = set()
    for entry in ports:
        protocol = str(entry.get("protocol") or "TCP")
        if protocol not in PROTOCOLS:
            continue  # nothing unknown reaches iptables-restore's input
        proto = protocol.lower()
        port = entry.get("port")
        if port is None:
            out.add(f"-p {proto}")
        elif isinstance(port, str) and not port.isdigit():
            named = dst.ports if dst is not None else ()
            out.update(
                f"-p {proto} --dport {n}" for name, pr, n in named if (name, pr) == (port, protocol)
            )
        else:
            low = int(port)
            high = max(low, int(entry.get("endPort") or low))
            out.add(
                f"-p {proto} --dport {low}" if high == low else f"-p {proto} --dport {low}:{high}"
            )
    return sorted(out)


def _allow_rules(
    chain: str,
    flag: str,
    peers: dict[str, _Pod | None] | None,
    ports: Sequence[Obj] | None,
    local: _Pod | None,
    pods: list[_Pod],
) -> set[str]:
    """RETURN rules for one policy rule. ``local`` is the destination for ingress; for egress
    (``local`` None) each peer is, and with every peer allowed a named port is looked up in
    every pod."""
    if peers is None and local is None and ports and any(_named(p) for p in ports):
        numbered = [p for p in ports if not _named(p)]
        out = _allow_rules(chain, flag, None, numbered, None, pods) if numbered else set()
        named = [p for p in ports if _named(p)]
        by_pod: dict[str, _Pod | None] = {p.ip: p for p in pods}
        return out | _allow_rules(chain, flag, by_pod, named, None, pods)
    out = set()
    targets = [("", None)] if peers is None else [(f" {flag} {a}", p) for a, p in peers.items()]
    for where, peer in targets:
        matches = [""] if not ports else [" " + m for m in _port_matches(ports, local or peer)]
        out.update(f"-A {chain}{where}{m} -j RETURN" for m in matches)
    return out


def _named(entry: Obj) -> bool:
    port = entry.get("port")
    return isinstance(port, str) and not port.isdigit()


def _pod_chain(
    direction: str, pod: _Pod, policies: Sequence[Obj], pods: list[_Pod], ns: Mapping[str, Obj]
) -> list[str] | None:
    """The rules of ``pod``'s chain for ``direction``, or ``None`` when no policy isolates it.
    An allowed packet RETURNs (a same-node peer's own chain, then the rest of FORWARD, still
    see it); the rest is DROPped, so a TCP connect times out, as the drills observe."""
    ingress = direction == "Ingress"
    chain = pod_chain_name(direction, pod.namespace, pod.name)
    rules_key, peers_key, flag = ("ingress", "from", "-s") if ingress else ("egress", "to", "-d")
    isolated, rules = False, set()
    for policy in policies:
        meta, spec = policy.get("metadata") or {}, policy.get("spec") or {}
        if meta.get("namespace") != pod.namespace or direction not in policy_types(spec):
            continue
        if not selects(spec.get("podSelector") or {}, pod.labels):
            continue
        isolated = True
        for rule in spec.get(rules_key) or []:
            peers = _peers(rule.get(peers_key), pod.namespace, pods, ns)
            local = pod if ingress else None
            rules |= _allow_rules(chain, flag, peers, rule.get("ports"), local, pods)
    if not isolated:
        return None
    return [*sorted(rules), f"-A {chain} -j DROP"]


def pod_chain_name(direction: str, namespace: str, name: str) -> str:
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:10]
    return f"{POD_CHAIN_PREFIX}{direction[0]}-{digest}"


def compile_rules(
    node: str,
    pods: list[dict[str, Any]],
    namespaces: list[dict[str, Any]],
    policies: list[dict[str, Any]],
) -> list[str]:
    """The iptables-restore input (``*filter`` to ``COMMIT``) enforcing ``policies`` for the
    pods of ``node``: the ``DRILLBOOK-NETPOL`` chain and one chain per isolated pod and
    direction. Sorted, so equal inputs give equal text. Pure: the objects as the API serves
    them (dicts, camelCase keys)."""
    live = _pods(pods)
    ns_labels: dict[str, Obj] = {}
    for item in namespaces:
        meta = item.get("metadata") or {}
        name = str(meta.get("name", ""))
        ns_labels[name] = {**_ns_default(name), **(meta.get("labels") or {})}
    declared, bodies = [f":{CHAIN} - [0:0]"], []
    jumps: dict[str, list[str]] = {"E": [], "I": []}
    for pod in (p for p in live if p.node == node):
        for direction, flag in (("Egress", "-s"), ("Ingress", "-d")):
            body = _pod_chain(direction, pod, policies, live, ns_labels)
            if body is None:
                continue
            chain = pod_chain_name(direction, pod.namespace, pod.name)
            note = _SAFE_NAME.sub("", f"{pod.namespace}/{pod.name} {direction.lower()}")[:200]
            declared.append(f":{chain} - [0:0]")
            jumps[direction[0]].append(
                f'-A {CHAIN} {flag} {pod.ip} -m comment --comment "{note}" -j {chain}'
            )
            bodies.extend(body)
    # egress first: an allowed packet RETURNs from its source's chain to its destination's
    main = [ESTABLISHED, *sorted(jumps["E"]), *sorted(jumps["I"])] if len(declared) > 1 else []
    return ["*filter", declared[0], *sorted(declared[1:]), *main, *bodies, "COMMIT"]


def restore_text(rules: list[str], existing: Iterable[str]) -> str:
    """``rules`` (from ``compile_rules``) plus the removal of ``existing`` per-pod chains it no
    longer declares: declared (so flushed) then deleted, once the main chain no longer jumps."""
    declared = {line[1:].split()[0] for line in rules if line.startswith(":")}
    stale = sorted(c for c in set(existing) if c.startswith(POD_CHAIN_PREFIX) and c not in declared)
    body = [line for line in rules if line not in ("*filter", "COMMIT")]
    head = [line for line in body if line.startswith(":")]
    tail = [line for line in body if not line.startswith(":")]
    lines = ["*filter", *head, *(f":{c} - [0:0]" for c in stale), *tail]
    return "\n".join([*lines, *(f"-X {c}" for c in stale), "COMMIT", ""])


def chains_of(listing: str) -> list[str]:
    """drillbook's chains in ``iptables -S`` output."""
    names = (line.split()[1] for line in listing.splitlines() if line.startswith("-N "))
    return sorted(n for n in names if n == CHAIN or n.startswith(POD_CHAIN_PREFIX))


def jump_is_first(forward: str) -> bool:
    """Whether ``iptables -S [FORWARD]`` shows the jump to ``CHAIN`` as the first rule."""
    rules = [line for line in forward.splitlines() if line.startswith("-A FORWARD ")]
    return bool(rules) and rules[0].split() == ["-A", "FORWARD", "-j", CHAIN]


Runner = Callable[[list[str], str | None], str]


def run_command(argv: list[str], stdin: str | None = None) -> str:
    """``argv``'s stdout; RuntimeError with its stderr when it fails."""
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=REQUEST_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:3])}: exit {done.returncode}: {done.stderr.strip()[:300]}"
        )
    return done.stdout


class Firewall:
    """The rules in the kernel: written when they change, the FORWARD jump kept first."""

    def __init__(self, run: Runner = run_command) -> None:
        self._run = run
        self._applied: str | None = None

    def apply(self, rules: list[str]) -> bool:
        """Write ``rules`` if they differ from the last written; whether they did."""
        text = "\n".join(rules)
        if text == self._applied:
            return False
        existing = chains_of(self._run(["iptables", "-w", "5", "-S"], None))
        self._run(["iptables-restore", "-w", "5", "--noflush"], restore_text(rules, existing))
        self._applied = text
        self.ensure_jump()
        return True

    def ensure_jump(self) -> None:
        """FORWARD's first rule jumps to ``CHAIN`` (kube-proxy's KUBE-FORWARD accepts)."""
        if jump_is_first(self._run(["iptables", "-w", "5", "-S", "FORWARD"], None)):
            return
        self._delete_jumps()
        self._run(["iptables", "-w", "5", "-I", "FORWARD", "1", "-j", CHAIN], None)

    def intact(self) -> bool:
        """Whether the kernel still holds what was last written (the chains, the jump first);
        if not, the next ``apply`` writes it all again."""
        listing = self._run(["iptables", "-w", "5", "-S"], None)
        written = self._applied or ""
        declared = sorted(line[1:].split()[0] for line in written.splitlines() if line[:1] == ":")
        if jump_is_first(listing) and chains_of(listing) == declared:
            return True
        self._applied = None
        return False

    def _delete_jumps(self) -> None:
        for _ in range(20):
            try:
                self._run(["iptables", "-w", "5", "-D", "FORWARD", "-j", CHAIN], None)
            except RuntimeError:
                return  # no jump left

    def remove(self) -> list[str]:
        """The jump and every drillbook chain gone; the chains removed."""
        self._delete_jumps()
        chains = chains_of(self._run(["iptables", "-w", "5", "-S"], None))
        if chains:
            text = "\n".join(
                ["*filter", *(f":{c} - [0:0]" for c in chains), *(f"-X {c}" for c in chains)]
            )
            self._run(["iptables-restore", "-w", "5", "--noflush"], text + "\nCOMMIT\n")
        self._applied = None
        return chains


def bridge_netfilter(path: Path = BRIDGE_NF) -> str:
    """Make bridged pod traffic reach iptables (``bridge-nf-call-iptables`` = 1) if possible;
    one line saying how it stands."""
    try:
        current = path.read_text().strip()
    except OSError as exc:
        return f"br_netfilter: {path} unreadable ({exc.strerror}): same-node pod traffic unfiltered"
    if current == "1":
        return f"br_netfilter: {path.name} is 1: same-node pod traffic is filtered"
    try:
        path.write_text("1\n")
    except OSError as exc:
        return (
            f"br_netfilter: {path.name} is {current}, cannot set it ({exc.strerror}): "
            "same-node pod traffic is not filtered"
        )
    return f"br_netfilter: {path.name} set to 1: same-node pod traffic is filtered"


# --- volumes -------------------------------------------------------------------------------


def volumes_to_create(
    node: str, claims: list[dict[str, Any]], classes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The PersistentVolumes to create for the pending, unbound claims of ``PROVISIONER``'s
    classes that the scheduler placed on ``node`` (filesystem volumes only)."""
    ours = {
        str((c.get("metadata") or {}).get("name")): c
        for c in classes
        if c.get("provisioner") == PROVISIONER
    }
    volumes = []
    for claim in claims:
        meta, spec = claim.get("metadata") or {}, claim.get("spec") or {}
        notes = meta.get("annotations") or {}
        storage_class = ours.get(str(spec.get("storageClassName")))
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        uid = str(meta.get("uid") or "")
        if (
            PROVISIONER not in (notes.get(CLAIM_PROVISIONER[0]), notes.get(CLAIM_PROVISIONER[1]))
            or notes.get(SELECTED_NODE) != node
            or spec.get("volumeName")
            or (claim.get("status") or {}).get("phase", "Pending") != "Pending"
            or storage_class is None
            or spec.get("volumeMode", "Filesystem") != "Filesystem"
            or not size
            or not _UID.fullmatch(uid)
        ):
            continue
        volumes.append(_volume(node, claim, storage_class, str(size), uid))
    return sorted(volumes, key=lambda v: str(v["metadata"]["name"]))


def _volume(node: str, claim: Obj, storage_class: Obj, size: str, uid: str) -> dict[str, Any]:
    meta, spec = claim["metadata"], claim["spec"]
    name = f"pvc-{uid}"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER}},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
            "storageClassName": storage_class["metadata"]["name"],
            "volumeMode": "Filesystem",
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta.get("namespace"),
                "name": meta.get("name"),
                "uid": uid,
            },
            "hostPath": {"path": str(VOLUMES_ROOT / name), "type": "DirectoryOrCreate"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": [node],
                                }
                            ]
                        }
                    ]
                }
            },
        },
    }


def volume_dir(volume: Obj) -> Path | None:
    """The directory of one of our volumes, or ``None`` when its hostPath is not
    ``VOLUMES_ROOT/<its name>`` (never remove anything else)."""
    name = str((volume.get("metadata") or {}).get("name") or "")
    path = ((volume.get("spec") or {}).get("hostPath") or {}).get("path")
    if (
        not name.startswith("pvc-")
        or not _UID.fullmatch(name[4:])
        or path != str(VOLUMES_ROOT / name)
    ):
        return None
    return VOLUMES_ROOT / name


def _volume_node(volume: Obj) -> list[str]:
    terms = ((volume.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}
    return [
        str(v)
        for term in terms.get("nodeSelectorTerms") or []
        for expr in term.get("matchExpressions") or []
        if expr.get("key") == "kubernetes.io/hostname" and expr.get("operator") == "In"
        for v in expr.get("values") or []
    ]


def volumes_to_delete(node: str, volumes: list[dict[str, Any]]) -> list[str]:
    """Names of our released volumes on ``node`` whose reclaim policy is Delete (and whose
    directory is ours to remove)."""
    names = []
    for volume in volumes:
        meta, spec = volume.get("metadata") or {}, volume.get("spec") or {}
        if (
            (meta.get("annotations") or {}).get(PROVISIONED_BY) == PROVISIONER
            and (volume.get("status") or {}).get("phase") == "Released"
            and spec.get("persistentVolumeReclaimPolicy") == "Delete"
            and _volume_node(volume) == [node]
            and volume_dir(volume) is not None
        ):
            names.append(str(meta["name"]))
    return sorted(names)


# --- the API ---------------------------------------------------------------------------------


class ApiError(Exception):
    """The API server answered ``status`` (>= 400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Api:
    """A minimal Kubernetes API client: JSON over one kept-alive connection (a new TLS
    handshake per request, 12 a second per node, would load the control plane's node)."""

    def __init__(
        self,
        base: str,
        token_file: Path | None,
        ca_file: Path | None,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        url = urlsplit(base)
        self._https = url.scheme == "https"
        self._host, self._port = url.hostname or "localhost", url.port
        self._token_file, self._timeout = token_file, timeout_s
        self._context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._conn: http.client.HTTPConnection | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Api:
        base = env.get("KUBE_API") or (
            f"https://{env.get('KUBERNETES_SERVICE_HOST', '')}:"
            f"{env.get('KUBERNETES_SERVICE_PORT', '443')}"
        )
        token = Path(env.get("KUBE_TOKEN_FILE") or SA / "token")
        ca = Path(env.get("KUBE_CA_FILE") or SA / "ca.crt")
        return cls(base, token if token.exists() else None, ca if ca.exists() else None)

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        if self._conn is not None:
            return self._conn, True
        if self._https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._context
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        self._conn = conn
        return conn, False

    def request(self, method: str, path: str, body: Obj | None = None) -> Any:
        """The decoded JSON answer; ApiError for a status >= 400, OSError or HTTPException
        when the connection fails (retried once on a kept-alive one the server closed)."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self._token_file is not None:  # read each time: projected tokens rotate
            headers["Authorization"] = "Bearer " + self._token_file.read_text().strip()
        data = json.dumps(body).encode() if body is not None else None
        for _ in range(2):
            conn, reused = self._connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (OSError, http.client.HTTPException):
                self.close()
                if not reused:
                    raise
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:  # not the API server's JSON: a proxy's error page
            answer = None
        if response.status >= 400:
            why = answer.get("message") if isinstance(answer, dict) else response.reason
            raise ApiError(response.status, f"{method} {path}: {response.status} {why}"[:400])
        return answer

    def list(self, path: str) -> list[dict[str, Any]]:
        # resourceVersion=0: served from the API server's cache, not a quorum read of etcd
        items = self.request("GET", f"{path}?resourceVersion=0").get("items") or []
        return list(items)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# --- the loop --------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ} node-agent: {message}", flush=True)


class _Stop(BaseException):
    """SIGTERM or SIGINT: unwinds whatever runs (a request, a sleep) to the cleanup."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop(signum)


class Agent:
    """One node's enforcer and provisioner; ``step`` is one iteration."""

    def __init__(self, node: str, api: Api, firewall: Firewall) -> None:
        self.node, self.api, self.firewall = node, api, firewall
        self.steps = 0
        self._errors: dict[str, tuple[str, float]] = {}

    def step(self) -> bool:
        """One pass of both jobs; whether both succeeded (a failure is logged, not raised)."""
        self.steps += 1
        ok = self._guarded("netpol", self.enforce)
        return self._guarded("volumes", self.provision) and ok

    def _guarded(self, job: str, work: Callable[[], None]) -> bool:
        try:
            work()
        except Exception as exc:
            message = f"{job}: {type(exc).__name__}: {exc}".replace("\n", " ")[:500]
            last, when = self._errors.get(job, ("", 0.0))
            if message != last or time.monotonic() - when > 30:  # not twice a second
                log(message)
                self._errors[job] = (message, time.monotonic())
            return False
        if job in self._errors:
            log(f"{job}: recovered")
            del self._errors[job]
        return True

    def enforce(self) -> None:
        pods = self.api.list("/api/v1/pods")
        namespaces = self.api.list("/api/v1/namespaces")
        policies = self.api.list("/apis/networking.k8s.io/v1/networkpolicies")
        rules = compile_rules(self.node, pods, namespaces, policies)
        if self.firewall.apply(rules):
            chains = sum(1 for line in rules if line.startswith(f":{POD_CHAIN_PREFIX}"))
            log(f"netpol: rules written, {len(policies)} policies, {chains} pod chains")
        elif self.steps % 10 == 0 and not self.firewall.intact():  # kube-proxy, a person
            log("netpol: rules changed outside the agent: writing them again")

    def provision(self) -> None:
        claims = self.api.list("/api/v1/persistentvolumeclaims")
        classes = self.api.list("/apis/storage.k8s.io/v1/storageclasses")
        volumes = self.api.list("/api/v1/persistentvolumes")
        made = {(v.get("metadata") or {}).get("name") for v in volumes}
        for volume in volumes_to_create(self.node, claims, classes):
            if volume["metadata"]["name"] not in made:  # until the claim shows it bound
                self._create(volume)
        for name in volumes_to_delete(self.node, volumes):
            path = VOLUMES_ROOT / name  # volume_dir checked it is exactly this
            if path.is_symlink():
                path.unlink()  # never followed
            elif path.is_dir():
                shutil.rmtree(path)
            try:
                self.api.request("DELETE", f"/api/v1/persistentvolumes/{quote(name)}")
            except ApiError as exc:
                if exc.status != 404:
                    raise
            log(f"volumes: {name} released: directory and volume deleted")

    def _create(self, volume: dict[str, Any]) -> None:
        claim = volume["spec"]["claimRef"]
        try:
            self.api.request("POST", "/api/v1/persistentvolumes", volume)
        except ApiError as exc:
            if exc.status == 409:
                return  # made in an earlier pass
            raise
        name = volume["metadata"]["name"]
        log(f"volumes: {name} created for {claim['namespace']}/{claim['name']}")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{claim['name']}.", "namespace": claim["namespace"]},
            "involvedObject": {"kind": "PersistentVolumeClaim", **claim},
            "reason": "ProvisioningSucceeded",
            "message": f"Successfully provisioned volume {name} on {self.node}",
            "type": "Normal",
            "source": {"component": PROVISIONER, "host": self.node},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self.api.request(
                "POST", f"/api/v1/namespaces/{quote(claim['namespace'])}/events", event
            )
        except (ApiError, OSError, http.client.HTTPException) as exc:
            log(f"volumes: no event for {claim['name']}: {exc}")  # the volume is what counts


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    node = env.get("NODE_NAME", "")
    if not node:
        log("NODE_NAME is not set (the DaemonSet sets it from spec.nodeName)")
        return 2
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    agent = Agent(node, Api.from_env(env), Firewall())
    log(f"started on {node}; " + bridge_netfilter())
    try:
        while True:
            started = time.monotonic()
            if agent.step() and not READY_FILE.exists():
                READY_FILE.touch()
                log("ready")
            time.sleep(max(0.0, POLL_S - (time.monotonic() - started)))
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        agent.api.close()
        try:
            log(f"stopping: removed {', '.join(agent.firewall.remove()) or 'no chains'}")
        except Exception as exc:
            log(f"stopping: rules not removed: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

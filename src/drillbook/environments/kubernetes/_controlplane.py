"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and KWOK's simulated nodes, as local processes.

Everything the cluster needs lives in its state directory (``<cache>/clusters/<name>``): the PKI,
the kubeconfig, each process's log and pid. The processes are children of the cluster's
supervisor, which reaps them (``_supervisor``: why, and what PID 1 has to do with it). ``down``
stops them and removes the directory; an aborted run is cleaned up by ``drillbook k8s down``
(the pids are on disk).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import shutil
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.environments.kubernetes._build import ControlPlaneBuild
from drillbook.environments.kubernetes._supervisor import Supervisor, running, terminate
from drillbook.errors import LabError, WaitTimeout
from drillbook.waiting import Check, Wait

__all__ = ["ControlPlane", "ControlPlaneState"]

#: the order processes start in, and stop in reverse
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
#: how long a process has to exit after SIGTERM before SIGKILL
GRACE_S = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ControlPlaneState:
    """What ``up`` wrote down: ports and pids, so another process can stop it. ``supervisor``
    is the pid of the components' parent (0 in the state of a cluster from before it)."""

    name: str
    apiserver: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)
    supervisor: int = 0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> ControlPlaneState:
        return cls(**json.loads(path.read_text()))


@dataclass
class ControlPlane:
    """One local cluster named ``name``, run from ``build``'s binaries."""

    build: ControlPlaneBuild
    name: str = "drillbook"
    nodes: int = 3
    # a pod turns Ready this long after it is scheduled, as a container takes to start: with
    # none, KWOK replaces a killed pod before anything could notice it was gone
    pod_start_ms: int = 2000

    @property
    def root(self) -> Path:
        return self.build.cache / "clusters" / self.name

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def state(self) -> ControlPlaneState | None:
        return ControlPlaneState.load(self.state_file) if self.state_file.exists() else None

    # -- lifecycle -------------------------------------------------------------------------
    def up(self, say: Callable[[str], None] = print, timeout_s: float = 120) -> Path:
        """Start the cluster (building what is missing first); return its kubeconfig."""
        existing = self.state()
        if existing is not None and self._alive(existing):
            say(f"cluster {self.name!r} already up: {existing.apiserver}")
            return self.kubeconfig
        self.down(quiet=True)
        self.build.build(say)
        started = time.monotonic()
        for sub in ("pki", "logs", "etcd"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        ports = {
            k: _free_port()
            for k in ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler", "kwok")
        }
        state = ControlPlaneState(self.name, f"https://127.0.0.1:{ports['apiserver']}", ports)
        state.save(self.state_file)
        _pki(self.root / "pki")
        self._kubeconfigs(state)
        try:
            supervisor = Supervisor(self.root, self.root / "logs" / "supervisor.log", GRACE_S)
            state.supervisor = supervisor.pid
            state.save(self.state_file)
            try:
                for component in COMPONENTS:
                    state.pids[component] = self._start(supervisor, component, state)
                    state.save(self.state_file)
                    if component == "etcd":
                        self._wait_etcd(state, timeout_s)
                    elif component == "kube-apiserver":
                        self._wait_apiserver(state, timeout_s)
            finally:
                supervisor.close()  # it starts nothing more; it reaps until `down`
            self._add_nodes(state, timeout_s)
            self._storage_class(state)
        except BaseException:
            self.down(quiet=True)
            raise
        state.save(self.state_file)
        say(
            f"cluster {self.name!r} up in {time.monotonic() - started:.1f}s: {state.apiserver}, "
            f"{len(state.nodes)} kwok node(s); KUBECONFIG={self.kubeconfig}"
        )
        return self.kubeconfig

    def down(self, *, quiet: bool = False) -> list[str]:
        """Stop every process of the cluster and remove its state; return what was stopped.

        The supervisor stops and reaps the components; each one still running after it (a
        supervisor killed with SIGKILL, a cluster from before supervisors) is stopped here."""
        state = self.state()
        stopped = []
        if state is not None:
            pids = [(c, state.pids[c]) for c in reversed(COMPONENTS) if state.pids.get(c)]
            alive = [(c, pid) for c, pid in pids if running(pid)]
            if state.supervisor:  # it stops each component in turn, with the grace
                terminate(state.supervisor, GRACE_S * len(COMPONENTS) + 5)
            for _, pid in pids:
                terminate(pid, GRACE_S)
            stopped = [f"{component} (pid {pid})" for component, pid in alive]
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)
        if not quiet:
            print(f"cluster {self.name!r} down: stopped {', '.join(stopped) or 'nothing'}")
        return stopped

    # -- internals -------------------------------------------------------------------------
    def _alive(self, state: ControlPlaneState) -> bool:
        pids = [*state.pids.values(), *([state.supervisor] if state.supervisor else [])]
        return bool(state.pids) and all(running(p) for p in pids)

    def _start(self, supervisor: Supervisor, component: str, state: ControlPlaneState) -> int:
        cfg, p = self.root, state.ports
        args = component_args(
            pki=str(self.root / "pki"),
            configs=str(cfg),
            etcd_dir=str(self.root / "etcd"),
            ports=p,
        )
        args["kwok"] = [
            *self._kwok_config(),
            f"--kubeconfig={cfg / 'kubeconfig'}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--cidr=10.0.0.0/24",
            "--node-ip=10.0.0.1",
            "--node-lease-duration-seconds=40",
            f"--server-address=127.0.0.1:{p['kwok']}",
        ]
        log = self.root / "logs" / f"{component}.log"
        # started by the supervisor, its parent: it outlives this process (and the CLI), and
        # whoever runs `k8s down`, the supervisor reaps it
        try:
            pid, status = supervisor.start(
                component, str(self.build.path(component)), [component, *args[component]], log
            )
        except OSError as exc:
            raise LabError(
                f"the supervisor of cluster {self.name!r} did not start {component}: {exc}",
                hint=f"its log: {self.root / 'logs' / 'supervisor.log'}",
            ) from exc
        if status is not None:
            raise LabError(
                f"{component} exited at start (status {status})",
                hint=f"its log: {log}",
            )
        return pid

    def _kwok_config(self) -> list[str]:
        """KWOK's stages: the fast pod stages with ``pod_start_ms`` before a pod turns Ready,
        the node stages, node-not-ready for a node labelled ``NODE_NOT_READY_LABEL=true``, and
        drillbook's crash-loop stage for a pod labelled ``CRASH_LOOP_LABEL=true``. None when the
        stages were not copied (KWOK's defaults: pods Ready at once, no chaos stages)."""
        import yaml

        from drillbook.environments.kubernetes._build import KWOK_STAGES

        folder = self.build.stages_dir
        names = [Path(n).name for n in KWOK_STAGES]
        if not all((folder / n).exists() for n in names):
            return []
        docs = []
        for name in names:
            doc = yaml.safe_load((folder / name).read_text())
            spec = doc["spec"]
            if name == "pod-ready.yaml":
                if self.pod_start_ms:
                    spec["delay"] = {"durationMilliseconds": self.pod_start_ms}
                spec["selector"]["matchExpressions"].append(_not_labelled(CRASH_LOOP_LABEL))
            if name == "node-initialize.yaml":  # a NotReady node stays NotReady until unlabelled
                spec["selector"]["matchExpressions"].append(_not_labelled(NODE_NOT_READY_LABEL))
            if name == "node-not-ready.yaml":
                spec["delay"] = {"durationMilliseconds": 200}
            docs.append(doc)
        docs.append(_crash_loop_stage())
        path = self.root / "kwok-stages.yaml"
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        return [f"--config={path}"]

    def _wait(self, what: str, ok: Callable[[], bool], timeout_s: float, log: str) -> None:
        """Wait until ``ok``; an error reaching the process (refused, TLS, a half-written
        answer) is a failed look. Raises LabError with the end of the process's log."""
        try:
            Wait(timeout_s, poll_s=0.25).until(
                lambda: Check(ok(), "answered, not ready"),
                f"{what} to be ready",
                retry_on=(OSError, ValueError, ssl.SSLError),
            )
        except WaitTimeout as exc:
            tail = (self.root / "logs" / f"{log}.log").read_text(errors="replace")[-1500:]
            raise LabError(f"{exc.message}; its log ends:\n{tail}") from exc

    def _wait_etcd(self, state: ControlPlaneState, timeout_s: float) -> None:
        url = f"http://127.0.0.1:{state.ports['etcd']}/health"

        def healthy() -> bool:
            with urllib.request.urlopen(url, timeout=2) as resp:  # loopback
                return bool(json.loads(resp.read()).get("health") == "true")

        self._wait("etcd", healthy, timeout_s, "etcd")

    def _admin_context(self) -> ssl.SSLContext:
        return admin_context(self.root / "pki")

    def _wait_apiserver(self, state: ControlPlaneState, timeout_s: float) -> None:
        ctx = self._admin_context()

        def ready() -> bool:
            with urllib.request.urlopen(state.apiserver + "/readyz", timeout=2, context=ctx) as r:
                return bool(r.status == 200)

        self._wait("kube-apiserver", ready, timeout_s, "kube-apiserver")

    def _api(self, state: ControlPlaneState, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(state.apiserver + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10, context=self._admin_context()) as resp:
            return json.loads(resp.read())

    def _add_nodes(self, state: ControlPlaneState, timeout_s: float) -> None:
        """KWOK nodes (annotation kwok.x-k8s.io/node=fake), then wait until they are Ready."""
        for i in range(self.nodes):
            name = f"kwok-node-{i}"
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {
                        "kwok.x-k8s.io/node": "fake",
                        "node.alpha.kubernetes.io/ttl": "0",
                    },
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "kubernetes.io/role": "agent",
                        "type": "kwok",
                    },
                },
                "spec": {},
                "status": {
                    "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                    "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                },
            }
            self._api(state, "POST", "/api/v1/nodes", node)
            state.nodes.append(name)

        def ready() -> bool:
            items = self._api(state, "GET", "/api/v1/nodes")["items"]
            ready_nodes = [
                n
                for n in items
                if any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in n.get("status", {}).get("conditions", [])
                )
            ]
            return len(ready_nodes) >= self.nodes

        self._wait("the kwok nodes", ready, timeout_s, "kwok")

    def _storage_class(self, state: ControlPlaneState) -> None:
        """``standard``, the default class kind also has; without a provisioner: the Kubernetes
        lab provides each claim's volume (KubernetesLab), and a claim on a missing or emptied
        class stays Pending, as on a real cluster."""
        self._api(state, "POST", "/apis/storage.k8s.io/v1/storageclasses", STANDARD_CLASS)

    def _kubeconfigs(self, state: ControlPlaneState) -> None:
        pki = self.root / "pki"
        users = {
            "kubeconfig": ("admin", "drillbook-admin"),
            "controller-manager.kubeconfig": (
                "controller-manager",
                "system:kube-controller-manager",
            ),
            "scheduler.kubeconfig": ("scheduler", "system:kube-scheduler"),
        }
        ca = pki / "ca.crt"
        for filename, (user, _) in users.items():
            config = {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": f"drillbook-{self.name}",
                        "cluster": {"server": state.apiserver, "certificate-authority": str(ca)},
                    }
                ],
                "users": [
                    {
                        "name": user,
                        "user": {
                            "client-certificate": str(pki / f"{user}.crt"),
                            "client-key": str(pki / f"{user}.key"),
                        },
                    }
                ],
                "contexts": [
                    {
                        "name": f"drillbook-{self.name}",
                        "context": {
                            "cluster": f"drillbook-{self.name}",
                            "user": user,
                            "namespace": "trading-bot",
                        },
                    }
                ],
                "current-context": f"drillbook-{self.name}",
            }
            (self.root / filename).write_text(json.dumps(config, indent=2) + "\n")


def admin_context(pki: Path) -> ssl.SSLContext:
    """TLS as the cluster's admin: its CA, the admin's client certificate."""
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return ctx


def component_args(
    *,
    pki: str,
    configs: str,
    etcd_dir: str,
    ports: dict[str, int],
    address: str = "127.0.0.1",
    advertise: str = "127.0.0.1",
) -> dict[str, list[str]]:
    """The flags of etcd, kube-apiserver, kube-controller-manager and kube-scheduler: the
    loopback control plane's and, with the node's paths, the one in a real cluster's first node.
    ``address``: where the apiserver listens; the rest listen on loopback only."""
    p = ports
    return {
        "etcd": [
            f"--data-dir={etcd_dir}",
            f"--listen-client-urls=http://127.0.0.1:{p['etcd']}",
            f"--advertise-client-urls=http://127.0.0.1:{p['etcd']}",
            f"--listen-peer-urls=http://127.0.0.1:{p['etcd-peer']}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{p['etcd-peer']}",
            f"--initial-cluster=default=http://127.0.0.1:{p['etcd-peer']}",
            "--name=default",
            "--log-level=warn",
            "--quota-backend-bytes=2147483648",
        ],
        "kube-apiserver": [
            f"--etcd-servers=http://127.0.0.1:{p['etcd']}",
            f"--bind-address={address}",
            f"--advertise-address={advertise}",
            f"--secure-port={p['apiserver']}",
            f"--tls-cert-file={pki}/apiserver.crt",
            f"--tls-private-key-file={pki}/apiserver.key",
            f"--client-ca-file={pki}/ca.crt",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki}/sa.pub",
            f"--service-account-signing-key-file={pki}/sa.key",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
        ],
        "kube-controller-manager": [
            f"--kubeconfig={configs}/controller-manager.kubeconfig",
            f"--authentication-kubeconfig={configs}/controller-manager.kubeconfig",
            f"--authorization-kubeconfig={configs}/controller-manager.kubeconfig",
            "--bind-address=127.0.0.1",
            f"--secure-port={p['controller-manager']}",
            f"--service-account-private-key-file={pki}/sa.key",
            f"--root-ca-file={pki}/ca.crt",
            f"--cluster-signing-cert-file={pki}/ca.crt",
            f"--cluster-signing-key-file={pki}/ca.key",
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            "--controllers=*",
            "--node-monitor-grace-period=20s",
            "--profiling=false",
        ],
        "kube-scheduler": [
            f"--kubeconfig={configs}/scheduler.kubeconfig",
            f"--authentication-kubeconfig={configs}/scheduler.kubeconfig",
            f"--authorization-kubeconfig={configs}/scheduler.kubeconfig",
            "--bind-address=127.0.0.1",
            f"--secure-port={p['scheduler']}",
            "--leader-elect=false",
            "--profiling=false",
        ],
    }


#: the default class kind also has, with no provisioner (the lab provides each claim's volume)
STANDARD_CLASS: dict[str, Any] = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {
        "name": "standard",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    },
    "provisioner": "kubernetes.io/no-provisioner",
    "volumeBindingMode": "Immediate",
    "reclaimPolicy": "Retain",
}

#: a node with this label set to "true" reports Ready=False (KWOK's node-not-ready stage)
NODE_NOT_READY_LABEL = "node-not-ready.stage.kwok.x-k8s.io"
#: a pod with this label set to "true" never starts: CrashLoopBackOff, not Ready (drillbook's
#: crash-loop stage; KWOK's own container-failed stage ends the pod, which no kubelet does)
CRASH_LOOP_LABEL = "crash-loop.stage.drillbook.io"


def _not_labelled(label: str) -> dict[str, Any]:
    return {"key": f'.metadata.labels["{label}"]', "operator": "NotIn", "values": ["true"]}


def _crash_loop_stage() -> dict[str, Any]:
    """A pod whose container keeps exiting, as a kubelet shows it: Running, not Ready, the
    container waiting in CrashLoopBackOff after a restart."""
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": "drillbook-crash-loop"},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
            "selector": {
                "matchExpressions": [
                    {
                        "key": f'.metadata.labels["{CRASH_LOOP_LABEL}"]',
                        "operator": "In",
                        "values": ["true"],
                    },
                    {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                    {"key": ".status.podIP", "operator": "DoesNotExist"},
                ]
            },
            "delay": {"durationMilliseconds": 500},
            "next": {
                "statusTemplate": """{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: false
  restartCount: 1
  lastState:
    terminated:
      exitCode: 1
      reason: Error
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: back-off restarting failed container
{{ end }}
hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) """
                """( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
phase: Running
startTime: {{ $now | Quote }}
"""
            },
        },
    }


def _pki(folder: Path, *, apiserver_ips: Sequence[str] = (), nodes: Mapping[str, str] = {}) -> None:
    """A CA, the apiserver's serving certificate, client certificates for the admin and the
    controllers, and the service-account key pair; valid for a year. Loopback-only, unless
    ``apiserver_ips`` adds addresses, and ``nodes`` (name: IP) adds what real nodes need: each
    kubelet's client and serving certificates, kube-proxy's, and the apiserver's kubelet client."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def key() -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def write_key(name: str, k: ec.EllipticCurvePrivateKey) -> None:
        path = folder / f"{name}.key"
        path.write_bytes(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)

    def name(cn: str, org: str = "") -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    ca_key = key()
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("drillbook-ca"))
        .issuer_name(name("drillbook-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_key("ca", ca_key)
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def leaf(
        filename: str,
        cn: str,
        org: str = "",
        *,
        server: bool = False,
        names: Sequence[str] = (),
        ips: Sequence[str] = (),
    ) -> None:
        k = key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(cn, org))
            .issuer_name(ca.subject)
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        *(x509.DNSName(n) for n in names),
                        *(x509.IPAddress(ipaddress.ip_address(i)) for i in ips),
                    ]
                ),
                critical=False,
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        write_key(filename, k)
        (folder / f"{filename}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    leaf(
        "apiserver",
        "kube-apiserver",
        server=True,
        names=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"),
        ips=("127.0.0.1", "10.96.0.1", *apiserver_ips),
    )
    for node, ip in nodes.items():
        leaf(f"kubelet-{node}", f"system:node:{node}", "system:nodes")
        leaf(
            f"kubelet-serving-{node}", f"system:node:{node}", server=True, names=(node,), ips=(ip,)
        )
    if nodes:
        leaf("kube-proxy", "system:kube-proxy")
        leaf("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters")
    leaf("admin", "drillbook-admin", "system:masters")
    leaf("controller-manager", "system:kube-controller-manager")
    leaf("scheduler", "system:kube-scheduler")
    sa = key()
    write_key("sa", sa)
    (folder / "sa.pub").write_bytes(
        sa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )

"""Real Kubernetes nodes: Docker containers running containerd, runc, kubelet and kube-proxy, so
a pod is a real process that a kill really ends.

Why not stock kind: ``docker run --privileged`` fails on these machines (CAP_SYS_RESOURCE is
not in the bounding set), and nothing can be pulled. So drillbook creates the node containers
itself with every other capability, and runs what kind's node image would, from parts built
here (``docs/real-nodes/``: the spike, every workaround and what happens without it):

- a node is a container of the ``k8s-node`` image (Debian's containerd, runc and CNI plugins)
  on the cluster's own Docker network, ``--cgroupns=private`` with its cgroup mounts remounted
  read-write (its pods' cgroups stay below its own), ``--init`` so exited shims are reaped;
- the control plane (etcd, apiserver, controller-manager, scheduler, the same binaries as the
  loopback plane) runs in the first node, so nothing listens outside the cluster's network;
- kubelet and kube-proxy run in every node; pods get addresses from a bridge CNI on the node's
  podCIDR, with routes to the other nodes' podCIDRs; CoreDNS (built from its Go module) serves
  ``cluster.local`` at 10.96.0.10;
- the images are the lab's own (``drillbook images build``), imported into each node's
  containerd with ``docker save | ctr import``, and also tagged ``:lab`` as the manifests name
  them; the pause and CoreDNS images are made from their binaries.

The kubeconfig is written where the loopback plane writes its own (``<cache>/clusters/<name>``,
context ``drillbook-<name>``), so the Kubernetes lab, its faults and drills need no change.
Everything of the cluster is inside its containers: ``down`` (also after a SIGKILL of the run,
or ``drillbook lab clean``, which knows the label) removes the containers, their volumes and
the network, and with them every process, mount, interface and iptables rule.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drillbook.environments.kubernetes._build import ControlPlaneBuild
from drillbook.environments.kubernetes._controlplane import (
    _pki,
    admin_context,
    component_args,
)
from drillbook.environments.kubernetes._docker import docker as _docker
from drillbook.environments.kubernetes._docker import image_exists as _image_exists
from drillbook.environments.kubernetes._images import cluster_images
from drillbook.errors import LabError, WaitTimeout
from drillbook.waiting import Check, Wait

__all__ = [
    "CLUSTER_LABEL",
    "RealCluster",
    "RealClusterState",
    "kubelet_signal",
    "node_container",
    "real_clusters_left",
]

#: on every container, volume and network of a real-node cluster (value: the cluster's name)
CLUSTER_LABEL = "drillbook.k8s-cluster"
#: on the same objects: which cache (``cache_key``) the cluster was started with
CACHE_LABEL = "drillbook.k8s-cache"
#: Docker 20.10 knows caps 0-37; SYS_RESOURCE is not in these machines' bounding set, and
#: --privileged asks for it: every other one, listed (docs/real-nodes/FINDINGS.md, step 1)
CAPABILITIES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
]
POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/16"
DNS_IP = "10.96.0.10"
APISERVER_PORT = 6443
#: the control plane's ports inside the first node (its own network namespace: fixed)
PORTS = {"etcd": 2379, "etcd-peer": 2380, "apiserver": APISERVER_PORT}
PORTS |= {"controller-manager": 10257, "scheduler": 10259}
K = "/etc/kubernetes"

# run in each node before containerd: the five workarounds of the spike
_PREPARE = r"""set -e
for d in /sys/fs/cgroup/*; do mount -o remount,bind,rw "$d"; done
ln -sfn /dev/null /dev/kmsg
tr -d - < /proc/sys/kernel/random/uuid > /etc/machine-id
mkdir -p /etc/kubernetes/sysctl-mask /var/log/k8s /etc/cni/net.d /var/lib/etcd
for kv in vm/overcommit_memory=1 kernel/panic=10 kernel/panic_on_oops=1; do
  f=/etc/kubernetes/sysctl-mask/$(echo "${kv%=*}" | tr / .)
  echo "${kv#*=}" > "$f"
  mount --bind "$f" "/proc/sys/${kv%=*}"
done
"""


@dataclass
class RealClusterState:
    name: str
    apiserver: str
    network: str
    nodes: dict[str, str] = field(default_factory=dict)  # node name -> its IP
    kind: str = "real"

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> RealClusterState:
        return cls(**json.loads(path.read_text()))


@dataclass
class RealCluster:
    """A cluster of ``nodes`` real nodes named ``name``; ``images``: the lab images (recipe
    names) its nodes hold, by default every one the stack's manifests use."""

    build: ControlPlaneBuild
    name: str = "drillbook"
    nodes: int = 2
    images: tuple[str, ...] = ("postgres", "redis", "rabbitmq", "python", "monitoring")
    #: also the stack's code on the python image, tagged as the manifests name it
    stack_code: bool = True

    @property
    def root(self) -> Path:
        return self.build.cache / "clusters" / self.name

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def network(self) -> str:
        return f"drillbook-k8s-{self.name}"

    def node_names(self) -> list[str]:
        return [f"{self.name}-n{i}" for i in range(1, self.nodes + 1)]

    def container(self, node: str) -> str:
        """The Docker container of node ``node``."""
        return f"drillbook-k8s-{node}"

    def state(self) -> RealClusterState | None:
        if not self.state_file.exists():
            return None
        data = json.loads(self.state_file.read_text())
        return RealClusterState(**data) if data.get("kind") == "real" else None

    # -- lifecycle -------------------------------------------------------------------------
    def up(self, say: Callable[[str], None] = print, timeout_s: float = 240) -> Path:
        """Start the cluster (building what is missing first); return its kubeconfig."""
        existing = self.state()
        if existing is not None and self._alive(existing):
            say(f"cluster {self.name!r} already up: {existing.apiserver}")
            return self.kubeconfig
        self.down(quiet=True)
        self.build.build(say, nodes=True)
        node_image = _node_image(say)
        started = time.monotonic()
        images = self._images(say)
        image_archive(images, self.build.cache)  # once, before the nodes import it in parallel
        (self.root / "pki").mkdir(parents=True, exist_ok=True)
        try:
            state = self._containers(node_image)
            say(f"{len(state.nodes)} node container(s) on {self.network}")
            _pki(
                self.root / "pki",
                apiserver_ips=(next(iter(state.nodes.values())),),
                nodes=state.nodes,
            )
            self._kubeconfigs(state)
            with ThreadPoolExecutor(max_workers=len(state.nodes)) as pool:
                list(pool.map(lambda n: self._prepare(n, state, images), state.nodes))
            say(f"containerd up and {len(images)} image(s) imported in every node")
            self._control_plane(state, timeout_s)
            say(f"apiserver ready at {state.apiserver}")
            for node, ip in state.nodes.items():
                self._node_agents(node, ip, state)
            with self._client() as api:  # closed: no connection outlives `up`
                self._pod_network(api, state, timeout_s)
                self._cluster_addons(api, images, timeout_s)
        except BaseException:
            self.down(quiet=True)
            raise
        say(
            f"cluster {self.name!r} up in {time.monotonic() - started:.1f}s: {state.apiserver}, "
            f"{len(state.nodes)} real node(s); KUBECONFIG={self.kubeconfig}"
        )
        return self.kubeconfig

    def down(self, *, quiet: bool = False) -> list[str]:
        """Remove the cluster's containers, volumes and network; return what was removed."""
        removed = remove_cluster_objects(self.name)
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)
        if not quiet:
            print(f"cluster {self.name!r} down: removed {', '.join(removed) or 'nothing'}")
        return removed

    # -- internals -------------------------------------------------------------------------
    def _alive(self, state: RealClusterState) -> bool:
        running = _docker(
            "ps", "-q", "--filter", f"label={CLUSTER_LABEL}={self.name}", check=False
        ).split()
        return len(running) == len(state.nodes)

    def _images(self, say: Callable[[str], None]) -> dict[str, tuple[str, ...]]:
        """Docker reference -> the other names the cluster also knows it by (``:lab``, and
        the stack's release tags for the code image)."""
        from drillbook.environments.docker._settings import project_root

        refs = cluster_images(self.images, project_root(), say, code=self.stack_code)
        refs[_binary_image(self.build.path("pause"), "pause", say)] = ()
        refs[_binary_image(self.build.path("coredns"), "coredns", say)] = ()
        return refs

    def _containers(self, image: str) -> RealClusterState:
        label = f"{CLUSTER_LABEL}={self.name}"
        cache = f"{CACHE_LABEL}={cache_key(self.build.cache)}"
        _docker("network", "create", "--label", label, "--label", cache, self.network)
        state = RealClusterState(self.name, "", self.network)
        state.save(self.state_file)  # from here `down` finds what to remove
        caps = [arg for cap in CAPABILITIES for arg in ("--cap-add", cap)]
        for node in self.node_names():
            container = self.container(node)
            _docker(
                "volume", "create", "--label", label, "--label", cache, f"{container}-containerd"
            )  # fmt: skip
            _docker(
                "run", "-d", "--name", container, "--hostname", node, "--label", label,
                "--label", cache,
                "--label", "drillbook.managed=true", "--init", "--network", self.network,
                *caps,
                "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
                "--cgroupns=private", "--tmpfs", "/run", "--tmpfs", "/tmp",
                "--tmpfs", "/var/lib/kubelet",
                "-v", f"{container}-containerd:/var/lib/containerd",
                image, "sleep", "infinity",
            )  # fmt: skip
            ip = _docker(
                "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                container,
            ).strip()  # fmt: skip
            state.nodes[node] = ip
        first = next(iter(state.nodes.values()))
        state.apiserver = f"https://{first}:{APISERVER_PORT}"
        state.save(self.state_file)
        return state

    def _prepare(
        self, node: str, state: RealClusterState, images: Mapping[str, tuple[str, ...]]
    ) -> None:
        """The workarounds, the node's files and binaries, containerd, the images."""
        container = self.container(node)
        _docker("exec", container, "sh", "-c", _PREPARE)
        pki = self.root / "pki"
        files: dict[str, bytes | Path] = {
            "etc/containerd/config.toml": _containerd_config(images).encode(),
            f"{K[1:]}/kubelet-config.yaml": _kubelet_config(node).encode(),
            f"{K[1:]}/kube-proxy.yaml": _KUBE_PROXY_CONFIG.encode(),
            f"{K[1:]}/pki/ca.crt": pki / "ca.crt",
            "usr/local/bin/kubelet": self.build.path("kubelet"),
            "usr/local/bin/kube-proxy": self.build.path("kube-proxy"),
        }
        for name in (f"kubelet-{node}", f"kubelet-serving-{node}", "kube-proxy"):
            files[f"{K[1:]}/pki/{name}.crt"] = pki / f"{name}.crt"
            files[f"{K[1:]}/pki/{name}.key"] = pki / f"{name}.key"
        server = state.apiserver
        files[f"{K[1:]}/kubelet.kubeconfig"] = _kubeconfig(server, f"kubelet-{node}").encode()
        files[f"{K[1:]}/kube-proxy.kubeconfig"] = _kubeconfig(server, "kube-proxy").encode()
        if node == next(iter(state.nodes)):
            for binary in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
                files[f"usr/local/bin/{binary}"] = self.build.path(binary)
            for name in ("ca.key", "sa.key", "sa.pub"):
                files[f"{K[1:]}/pki/{name}"] = pki / name
            for name in ("apiserver", "controller-manager", "scheduler"):
                files[f"{K[1:]}/pki/{name}.crt"] = pki / f"{name}.crt"
                files[f"{K[1:]}/pki/{name}.key"] = pki / f"{name}.key"
            files[f"{K[1:]}/pki/apiserver-kubelet-client.crt"] = (
                pki / "apiserver-kubelet-client.crt"
            )
            files[f"{K[1:]}/pki/apiserver-kubelet-client.key"] = (
                pki / "apiserver-kubelet-client.key"
            )
            local = f"https://127.0.0.1:{APISERVER_PORT}"
            for user in ("controller-manager", "scheduler"):
                files[f"{K[1:]}/{user}.kubeconfig"] = _kubeconfig(local, user).encode()
        _put(container, files)
        _daemon(container, "containerd", ["containerd"])
        Wait(30, poll_s=0.2).until(
            lambda: Check(
                _docker("exec", container, "ctr", "version", check=False) != "", "not answering"
            ),
            f"containerd in {container}",
        )
        _import_images(container, images, image_archive(images, self.build.cache))

    def _control_plane(self, state: RealClusterState, timeout_s: float) -> None:
        node = next(iter(state.nodes))
        container = self.container(node)
        args = component_args(
            pki=f"{K}/pki",
            configs=K,
            etcd_dir="/var/lib/etcd",
            ports=PORTS,
            address="0.0.0.0",  # the node's own network: the cluster's Docker network only
            advertise=state.nodes[node],
        )
        args["kube-apiserver"] += [
            f"--kubelet-client-certificate={K}/pki/apiserver-kubelet-client.crt",
            f"--kubelet-client-key={K}/pki/apiserver-kubelet-client.key",
            "--kubelet-preferred-address-types=InternalIP",
        ]
        args["kube-controller-manager"] += [
            "--allocate-node-cidrs=true",
            f"--cluster-cidr={POD_CIDR}",
            "--node-cidr-mask-size=24",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
        ]
        for component in ("etcd", "kube-apiserver"):
            _daemon(container, component, [component, *args[component]])
        self._wait_api(state, timeout_s)
        for component in ("kube-controller-manager", "kube-scheduler"):
            _daemon(container, component, [component, *args[component]])

    def _node_agents(self, node: str, ip: str, state: RealClusterState) -> None:
        container = self.container(node)
        kubelet = [
            "kubelet",
            f"--config={K}/kubelet-config.yaml",
            f"--kubeconfig={K}/kubelet.kubeconfig",
            f"--hostname-override={node}",
            f"--node-ip={ip}",
            "--v=1",
        ]
        _daemon(container, "kubelet", kubelet)
        proxy = ["kube-proxy", f"--config={K}/kube-proxy.yaml", f"--hostname-override={node}"]
        _daemon(container, "kube-proxy", proxy)

    def _pod_network(self, api: Any, state: RealClusterState, timeout_s: float) -> None:
        """A bridge on each node's podCIDR, routes to the others' (kindnet's job), then Ready."""
        from kubernetes import client

        core: Any = client.CoreV1Api(api)

        def cidrs() -> Check:
            found = {n.metadata.name: n.spec.pod_cidr for n in core.list_node().items}
            missing = [n for n in state.nodes if not found.get(n)]
            return Check(not missing, f"no podCIDR yet: {', '.join(missing)}")

        self._wait(cidrs, "every node registered with a podCIDR", timeout_s)
        pod_cidr = {n.metadata.name: n.spec.pod_cidr for n in core.list_node().items}
        for node in state.nodes:
            container = self.container(node)
            _put(container, {"etc/cni/net.d/10-drillbook.conflist": _cni(pod_cidr[node]).encode()})
            for other, ip in state.nodes.items():
                if other != node:
                    _docker("exec", container, "ip", "route", "replace", pod_cidr[other], "via", ip)

        def ready() -> Check:
            waiting = [
                n.metadata.name
                for n in core.list_node().items
                if not any(
                    c.type == "Ready" and c.status == "True" for c in n.status.conditions or []
                )
            ]
            return Check(not waiting, f"not Ready: {', '.join(waiting)}")

        self._wait(ready, f"all {len(state.nodes)} nodes Ready", timeout_s)

    def _cluster_addons(
        self, api: Any, images: Mapping[str, tuple[str, ...]], timeout_s: float
    ) -> None:
        """CoreDNS, and drillbook's node agent (``node_agent.py``: the NetworkPolicy enforcer
        and the ``standard`` StorageClass's provisioner) on every node; wait until both are
        Ready."""
        from drillbook.environments.kubernetes._agent import node_agent_objects
        from kubernetes import client, utils

        coredns = next(ref for ref in images if "/coredns:" in ref)
        create: Any = utils.create_from_yaml
        create(api, yaml_objects=_coredns_objects(f"docker.io/{coredns}"))
        python = next((a for aliases in images.values() for a in aliases if "/python:" in a), "")
        if not python:
            raise LabError("the node agent runs on the python image: the cluster has none")
        create(api, yaml_objects=node_agent_objects(f"docker.io/{python}"))
        apps: Any = client.AppsV1Api(api)

        def dns_ready() -> Check:
            d = apps.read_namespaced_deployment("coredns", "kube-system")
            ready = d.status.ready_replicas or 0
            return Check(ready >= 1, f"coredns: {ready} ready")

        def agents_ready() -> Check:
            d = apps.read_namespaced_daemon_set("drillbook-node-agent", "kube-system")
            want, ready = d.status.desired_number_scheduled or 0, d.status.number_ready or 0
            return Check(want > 0 and ready == want, f"node agents: {ready}/{want} ready")

        self._wait(dns_ready, "CoreDNS ready", timeout_s)
        self._wait(agents_ready, "the node agent ready on every node", timeout_s)

    def _kubeconfigs(self, state: RealClusterState) -> None:
        pki = self.root / "pki"
        context = f"drillbook-{self.name}"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": context,
                    "cluster": {
                        "server": state.apiserver,
                        "certificate-authority": str(pki / "ca.crt"),
                    },
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {
                        "client-certificate": str(pki / "admin.crt"),
                        "client-key": str(pki / "admin.key"),
                    },
                }
            ],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": context, "user": "admin", "namespace": "trading-bot"},
                }
            ],
            "current-context": context,
        }
        self.kubeconfig.write_text(json.dumps(config, indent=2) + "\n")

    def _client(self) -> Any:
        from kubernetes import config

        new_client: Any = config.new_client_from_config
        return new_client(str(self.kubeconfig))

    def _wait_api(self, state: RealClusterState, timeout_s: float) -> None:
        """Until ``/readyz``: the RBAC bootstrap roles exist before the controllers start."""
        ctx = admin_context(self.root / "pki")

        def ready() -> Check:
            with urllib.request.urlopen(state.apiserver + "/readyz", timeout=3, context=ctx) as r:
                return Check(r.status == 200, f"readyz answered {r.status}")

        self._wait(ready, "the apiserver in the first node", timeout_s)

    def _wait(
        self,
        check: Callable[[], Check],
        what: str,
        timeout_s: float,
        *,
        retry_on: tuple[type[Exception], ...] = (OSError, ValueError),
    ) -> None:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        first = self.container(self.node_names()[0])
        try:
            Wait(timeout_s, poll_s=0.5).until(
                check, what, retry_on=(*retry_on, HTTPError, ApiException)
            )
        except WaitTimeout as exc:
            logs = _docker(
                "exec", first, "sh", "-c", "tail -n 15 /var/log/k8s/*.log", check=False
            )  # fmt: skip
            raise LabError(
                f"real-node cluster {self.name!r}: {exc.message}; the node's logs end:\n{logs}",
                hint=f"docker exec {first} ls /var/log/k8s",
            ) from exc


def node_container(node: str) -> str:
    """The Docker container of real node ``node``: a drillbook real-node cluster's
    (``drillbook-k8s-<node>``), else one named as the node (kind's); LabError when neither
    runs here."""
    for name in (f"drillbook-k8s-{node}", node):
        if _docker("ps", "-q", "--filter", f"name=^{name}$", check=False).strip():
            return name
    raise LabError(
        f"node {node}: no Docker container of that node runs here",
        hint="node faults on real nodes need the node's container (drillbook's real-node "
        "cluster, or kind) on this machine's Docker engine",
    )


def cache_key(cache: Path) -> str:
    """What the ``drillbook.k8s-cache`` label says of a cluster's cache directory."""
    return hashlib.sha256(str(cache.resolve()).encode()).hexdigest()[:12]


def kubelet_signal(node: str, signal: str) -> None:
    """``pkill -<signal> -x kubelet`` in the Docker container of real node ``node`` (STOP: it
    stops reporting, as one cut off from the API server; CONT: it goes on)."""
    container = node_container(node)
    _docker("exec", container, "pkill", f"-{signal}", "-x", "kubelet", timeout=30)


def real_clusters_left(cache: Path | None = None) -> list[str]:
    """The names of real-node clusters with anything left in Docker (containers, volumes or
    networks), whether or not their state directory still exists; with ``cache``, only those
    started with that cache (``DRILLBOOK_K8S_CACHE``): another cache's clusters are not its
    to remove."""
    names: set[str] = set()
    only = ["--filter", f"label={CACHE_LABEL}={cache_key(cache)}"] if cache else []
    for kind in ("ps -a", "volume ls", "network ls"):
        out = _docker(
            *kind.split(), "--filter", f"label={CLUSTER_LABEL}", *only,
            "--format", f'{{{{.Label "{CLUSTER_LABEL}"}}}}',
            check=False,
        )  # fmt: skip
        names.update(line.strip() for line in out.splitlines() if line.strip())
    return sorted(names)


def remove_cluster_objects(name: str) -> list[str]:
    """``docker rm -f`` the cluster's containers, then its volumes and network."""
    label = f"label={CLUSTER_LABEL}={name}"
    removed = []
    containers = _docker("ps", "-aq", "--filter", label, check=False).split()
    if containers:
        _docker("rm", "-f", "-v", *containers, check=False)
        removed.append(f"{len(containers)} node container(s)")
    volumes = _docker("volume", "ls", "-q", "--filter", label, check=False).split()
    if volumes:
        _docker("volume", "rm", "-f", *volumes, check=False)
        removed.append(f"{len(volumes)} volume(s)")
    networks = _docker("network", "ls", "-q", "--filter", label, check=False).split()
    if networks:
        _docker("network", "rm", *networks, check=False)
        removed.append(f"network {', '.join(networks)}")
    return removed


# -- Docker ---------------------------------------------------------------------------------
def _node_image(say: Callable[[str], None]) -> str:
    import docker

    from drillbook.images import NODE_RECIPE, ImageBuilder

    if _image_exists(NODE_RECIPE.tag):
        return NODE_RECIPE.tag
    say(f"building the node image {NODE_RECIPE.tag} (mmdebstrap)")
    ImageBuilder(docker.from_env()).build(NODE_RECIPE)
    return NODE_RECIPE.tag


def _binary_image(binary: Path, name: str, say: Callable[[str], None]) -> str:
    """An image of one static binary as its entrypoint, tagged by the binary's content."""
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()[:12]
    ref = f"drillbook/{name}:{digest}"
    if _image_exists(ref):
        return ref
    say(f"making image {ref} from {binary}")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(binary, arcname=name)
    done = subprocess.run(
        ["docker", "import", "--change", f'ENTRYPOINT ["/{name}"]', "-", ref],
        input=buf.getvalue(),
        capture_output=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise LabError(f"docker import of {ref} failed: {done.stderr.decode()[-500:]}")
    return ref


def _put(container: str, files: Mapping[str, bytes | Path]) -> None:
    """Write ``files`` (path inside: bytes or a host file) into the container, one tar stream
    (``docker cp`` cannot write below the node's tmpfs mounts)."""
    with subprocess.Popen(
        ["docker", "exec", "-i", container, "tar", "-C", "/", "-x"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None
        assert proc.stderr is not None
        try:
            with tarfile.open(fileobj=proc.stdin, mode="w|") as tar:
                for name, content in files.items():
                    if isinstance(content, Path):
                        tar.add(content, arcname=name)
                        continue
                    info = tarfile.TarInfo(name)
                    info.size, info.mode, info.mtime = len(content), 0o644, int(time.time())
                    tar.addfile(info, io.BytesIO(content))
        finally:
            proc.stdin.close()
        err = proc.stderr.read()
        if proc.wait(timeout=120) != 0:
            raise LabError(f"writing files into {container} failed: {err.decode()[-500:]}")


def _daemon(container: str, name: str, argv: Iterable[str]) -> None:
    """Start a long-running process in the node, its output in /var/log/k8s/NAME.log; started
    again a second after it exits, as systemd restarts kind's kubelet."""
    command = " ".join(_quote(a) for a in argv)
    log = f"/var/log/k8s/{name}.log"
    loop = (
        f'while :; do {command} >> {log} 2>&1; echo "[drillbook] exited $?" >> {log}; sleep 1; done'
    )
    _docker("exec", "-d", container, "sh", "-c", loop)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def image_archive(images: Mapping[str, tuple[str, ...]], cache: Path) -> Path:
    """``docker save`` of ``images`` into ``cache/node-images/<hash of the refs>.tar``, once
    for every cluster and process (written under a private name, then renamed: two writers
    never meet); older archives are removed."""
    import os
    import threading

    refs = sorted(images)
    key = hashlib.sha256("\n".join(refs).encode()).hexdigest()[:16]
    folder = cache / "node-images"
    archive = folder / f"{key}.tar"
    if archive.exists():
        return archive
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{key}.{os.getpid()}.{threading.get_ident()}.partial"
    try:
        _docker("save", "-o", str(partial), *refs, timeout=600)
        partial.replace(archive)
    finally:
        partial.unlink(missing_ok=True)
    for old in folder.glob("*.tar"):
        if old != archive and time.time() - old.stat().st_mtime > 60:
            old.unlink(missing_ok=True)
    return archive


def _import_images(container: str, images: Mapping[str, tuple[str, ...]], archive: Path) -> None:
    """``ctr import`` of the saved ``archive`` into the node, then the extra tags."""
    with archive.open("rb") as stream:
        done = subprocess.run(
            ["docker", "exec", "-i", container, "ctr", "-n", "k8s.io", "images", "import", "-"],
            stdin=stream,
            capture_output=True,
            check=False,
            timeout=600,
        )
    if done.returncode != 0:
        raise LabError(f"importing images into {container} failed: {done.stderr.decode()[-500:]}")
    for ref, aliases in images.items():
        for alias in aliases:
            _docker(
                "exec", container, "ctr", "-n", "k8s.io", "images", "tag", "--force",
                f"docker.io/{ref}", f"docker.io/{alias}",
            )  # fmt: skip


# -- the node's configuration ---------------------------------------------------------------
def _containerd_config(images: Mapping[str, tuple[str, ...]]) -> str:
    pause = next(ref for ref in images if "/pause:" in ref)
    return f"""version = 2
[plugins."io.containerd.grpc.v1.cri"]
  # a pause sandbox gets oom_score_adj -998: lowering it needs CAP_SYS_RESOURCE
  restrict_oom_score_adj = true
  sandbox_image = "docker.io/{pause}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
"""


def _kubelet_config(node: str) -> str:
    return f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
protectKernelDefaults: false
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: true}}
  x509: {{clientCAFile: {K}/pki/ca.crt}}
authorization: {{mode: Webhook}}
tlsCertFile: {K}/pki/kubelet-serving-{node}.crt
tlsPrivateKeyFile: {K}/pki/kubelet-serving-{node}.key
clusterDNS: [{DNS_IP}]
clusterDomain: cluster.local
# the images cannot be pulled again: never collect them
imageGCHighThresholdPercent: 100
evictionHard: {{memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}}
serializeImagePulls: false
"""


# /proc/sys is read-only in the node: kube-proxy must not tune conntrack
_KUBE_PROXY_CONFIG = f"""apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {{kubeconfig: {K}/kube-proxy.kubeconfig}}
mode: iptables
clusterCIDR: {POD_CIDR}
nodePortAddresses: [primary]
conntrack: {{maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}}
iptables: {{localhostNodePorts: false}}
"""


def _cni(subnet: str) -> str:
    gateway = subnet.rsplit(".", 1)[0] + ".1"
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "drillbook-pods",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "cni0",
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": subnet, "gateway": gateway}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=2,
    )


def _kubeconfig(server: str, user: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {"server": server, "certificate-authority": f"{K}/pki/ca.crt"},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate": f"{K}/pki/{user}.crt",
                        "client-key": f"{K}/pki/{user}.key",
                    },
                }
            ],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
            "current-context": "local",
        }
    )


_COREFILE = """.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
    loop
}
"""


def _coredns_objects(image: str) -> list[dict[str, Any]]:
    """CoreDNS as kube-dns at 10.96.0.10, answering cluster.local only (nothing upstream: the
    lab reaches nothing beyond itself)."""
    ns = "kube-system"
    labels = {"k8s-app": "kube-dns"}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "coredns", "namespace": ns},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "system:coredns"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"],
                },
                {
                    "apiGroups": ["discovery.k8s.io"],
                    "resources": ["endpointslices"],
                    "verbs": ["list", "watch"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:coredns"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:coredns",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": ns}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": ns},
            "data": {"Corefile": _COREFILE},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": ns, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "coredns",
                        "dnsPolicy": "Default",
                        "containers": [
                            {
                                "name": "coredns",
                                "image": image,
                                "imagePullPolicy": "Never",
                                "args": ["-conf", "/etc/coredns/Corefile"],
                                "ports": [
                                    {"containerPort": 53, "protocol": "UDP", "name": "dns"},
                                    {"containerPort": 53, "protocol": "TCP", "name": "dns-tcp"},
                                ],
                                "readinessProbe": {
                                    "httpGet": {"path": "/ready", "port": 8181},
                                    "periodSeconds": 2,
                                },
                                "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns"}],
                            }
                        ],
                        "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": ns, "labels": labels},
            "spec": {
                "selector": labels,
                "clusterIP": DNS_IP,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                ],
            },
        },
    ]

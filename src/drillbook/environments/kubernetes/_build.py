"""Build a real Kubernetes control plane from Go modules, once, cached outside the repository.

kind cannot run where nothing can be pulled; what can run is the control plane itself, built from
``k8s.io/kubernetes`` (kube-apiserver, kube-controller-manager, kube-scheduler), KWOK for
simulated nodes, and etcd. The binaries land in ``<cache>/<version>/bin`` (``DRILLBOOK_K8S_CACHE``,
default ``~/.cache/drillbook/k8s``), keyed by the versions below; the Go module and build caches
are kept there too, so a second build is a no-op and a changed version builds beside the old.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drillbook.errors import LabError

__all__ = ["BINARIES", "NODE_BINARIES", "ControlPlaneBuild", "default_cache"]

KUBERNETES = "v1.34.4"
KWOK = "v0.7.0"
ETCD_PACKAGE = "etcd-server"  # Debian trixie's (3.5.x): bookworm's 3.4 is too old for 1.34
GO_PROXY = "https://proxy.golang.org"
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "etcd")
#: what real nodes add (``drillbook k8s build --nodes real``): the node agent and the service
#: proxy from the same module, the sandbox's pause process, and CoreDNS for cluster DNS
NODE_BINARIES = ("kubelet", "kube-proxy", "pause", "coredns")
COREDNS = "v1.12.4"
#: KWOK's stage files the control plane runs with, under its module's kustomize/stage/
KWOK_STAGES = (
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
    "node/fast/node-initialize.yaml",
    "node/heartbeat/node-heartbeat.yaml",
    "node/chaos/node-not-ready.yaml",
)


def default_cache() -> Path:
    return Path(os.environ.get("DRILLBOOK_K8S_CACHE") or Path.home() / ".cache/drillbook/k8s")


@dataclass(frozen=True)
class ControlPlaneBuild:
    """Where the binaries of one version set live, and how to build the missing ones."""

    cache: Path
    kubernetes: str = KUBERNETES
    kwok: str = KWOK

    @property
    def key(self) -> str:
        return f"kubernetes-{self.kubernetes}_kwok-{self.kwok}"

    @property
    def bin_dir(self) -> Path:
        return self.cache / self.key / "bin"

    def path(self, binary: str) -> Path:
        return self.bin_dir / binary

    @property
    def stages_dir(self) -> Path:
        """KWOK's own pod stages (pod-ready, pod-complete, pod-delete), copied at build time
        so ``up`` can give pods a start-up time (see ``ControlPlane.pod_start_ms``)."""
        return self.cache / self.key / "kwok-stages"

    def missing(self, *, nodes: bool = False) -> list[str]:
        wanted = (*BINARIES, *NODE_BINARIES) if nodes else BINARIES
        return [b for b in wanted if not os.access(self.path(b), os.X_OK)]

    def build(self, say: Callable[[str], None] = print, *, nodes: bool = False) -> dict[str, float]:
        """Build what is missing; return seconds per binary built (empty when all cached).

        ``nodes``: also what real nodes run (kubelet, kube-proxy, pause, CoreDNS)."""
        missing = self.missing(nodes=nodes)
        if not missing:
            self._kwok_stages()
            say(f"control plane {self.key}: cached in {self.bin_dir}")
            return {}
        if shutil.which("go") is None and not Path("/usr/local/go/bin/go").exists():
            raise LabError(
                "building the control plane needs Go (>= 1.24)",
                hint="install Go from go.dev or Debian's golang-go, or set DRILLBOOK_K8S_CACHE to "
                "a directory holding the built binaries",
            )
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        took: dict[str, float] = {}
        k8s = [b for b in missing if b.startswith("kube")]
        if k8s:
            took.update(self._build_kubernetes(k8s, say))
        if "kwok" in missing:
            started = time.monotonic()
            say(f"building kwok {self.kwok}")
            self._go(
                ["install", f"sigs.k8s.io/kwok/cmd/kwok@{self.kwok}"],
                cwd=self.cache,
                extra={"GOBIN": str(self.bin_dir)},
            )
            took["kwok"] = time.monotonic() - started
        if "pause" in missing:
            started = time.monotonic()
            say("building pause (the pod sandbox's process)")
            self._build_pause()
            took["pause"] = time.monotonic() - started
        if "coredns" in missing:
            started = time.monotonic()
            say(f"building coredns {COREDNS} (first build: minutes)")
            self._go(
                ["install", "-trimpath", "-ldflags=-s -w", f"github.com/coredns/coredns@{COREDNS}"],
                cwd=self.cache,
                extra={"GOBIN": str(self.bin_dir)},
            )
            took["coredns"] = time.monotonic() - started
        if "etcd" in missing:
            started = time.monotonic()
            say(f"fetching {ETCD_PACKAGE} from Debian trixie")
            self._fetch_etcd()
            took["etcd"] = time.monotonic() - started
        self._kwok_stages()
        return took

    def _kwok_stages(self) -> None:
        """KWOK's own stage files, from its module: the fast pod stages, the node stages, and
        the node-not-ready chaos stage (a node whose kubelet reports NotReady)."""
        if all((self.stages_dir / Path(n).name).exists() for n in KWOK_STAGES):
            return
        source = self.cache / "go" / "mod" / f"sigs.k8s.io/kwok@{self.kwok}"
        if not source.is_dir():
            self._go(["mod", "download", f"sigs.k8s.io/kwok@{self.kwok}"], cwd=self.cache)
        self.stages_dir.mkdir(parents=True, exist_ok=True)
        for name in KWOK_STAGES:
            target = self.stages_dir / Path(name).name
            shutil.copyfile(source / "kustomize/stage" / name, target)

    # -- internals -------------------------------------------------------------------------
    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        root = self.cache / "go"
        env = {
            **os.environ,
            "GOPATH": str(root),
            "GOMODCACHE": str(root / "mod"),
            "GOCACHE": str(root / "cache"),
            "GOFLAGS": "-mod=mod",
            "CGO_ENABLED": "0",
            "GOTOOLCHAIN": "local",
            "PATH": f"/usr/local/go/bin:{os.environ.get('PATH', '')}",
        }
        env.setdefault("GOPROXY", GO_PROXY)
        return {**env, **(extra or {})}

    def _go(self, args: list[str], *, cwd: Path, extra: dict[str, str] | None = None) -> None:
        cwd.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["go", *args],
            cwd=cwd,
            env=self._env(extra),
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
        if done.returncode != 0:
            raise LabError(
                f"go {' '.join(args[:3])} failed in {cwd}: {done.stderr.strip()[-1500:]}",
                hint="the Go module proxy must answer (GOPROXY); see ../shared/LAB.md",
            )

    def _module(self) -> Path:
        """A module that requires k8s.io/kubernetes with every staging module pinned."""
        src = self.cache / self.key / "src"
        src.mkdir(parents=True, exist_ok=True)
        upstream_url = f"{GO_PROXY}/k8s.io/kubernetes/@v/{self.kubernetes}.mod"
        with urllib.request.urlopen(upstream_url, timeout=60) as resp:  # the Go module proxy
            upstream = resp.read().decode()
        staging = sorted(set(re.findall(r"^\s*(k8s\.io/[\w.-]+) => \./staging/", upstream, re.M)))
        if len(staging) < 20:
            raise LabError(f"{upstream_url}: only {len(staging)} staging modules found")
        minor = self.kubernetes.lstrip("v").split(".", 1)[1]  # 1.34.4 -> 34.4
        go_line = re.search(r"^go (\S+)", upstream, re.M)
        lines = [
            "module drillbook.local/k8s-build",
            "",
            f"go {go_line.group(1) if go_line else '1.24.0'}",
            "",
            f"require k8s.io/kubernetes {self.kubernetes}",
            "",
            "replace (",
            *(f"\t{m} => {m} v0.{minor}" for m in staging),
            ")",
        ]
        (src / "go.mod").write_text("\n".join(lines) + "\n")
        commands = (
            "kube-apiserver",
            "kube-scheduler",
            "kube-controller-manager",
            "kubelet",
            "kube-proxy",
        )
        imports = "\n".join(f'\t_ "k8s.io/kubernetes/cmd/{b}/app"' for b in commands)
        (src / "tools.go").write_text(
            "//go:build tools\n\npackage tools\n\nimport (\n" + imports + "\n)\n"
        )
        return src

    def _build_pause(self) -> None:
        """The pod sandbox's process: waits for SIGTERM and reaps, as Kubernetes' own pause."""
        src = self.cache / "pause-src"
        src.mkdir(parents=True, exist_ok=True)
        (src / "go.mod").write_text("module drillbook.local/pause\n\ngo 1.24\n")
        (src / "main.go").write_text(_PAUSE_GO)
        with tempfile.TemporaryDirectory(dir=self.bin_dir) as tmp:
            out = Path(tmp) / "pause"
            self._go(["build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."], cwd=src)
            out.replace(self.path("pause"))

    def _build_kubernetes(
        self, binaries: list[str], say: Callable[[str], None]
    ) -> dict[str, float]:
        src = self._module()
        say(f"resolving k8s.io/kubernetes {self.kubernetes} (go mod tidy)")
        self._go(["mod", "tidy", "-e"], cwd=src, extra={"GOFLAGS": "-mod=mod -tags=tools"})
        major, minor = self.kubernetes.lstrip("v").split(".")[:2]
        ldflags = " ".join(
            f"-X {pkg}.{var}={value}"
            for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
            for var, value in (
                ("gitVersion", self.kubernetes),
                ("gitMajor", major),
                ("gitMinor", minor),
                ("gitTreeState", "clean"),
            )
        )
        took = {}
        for binary in binaries:
            started = time.monotonic()
            say(f"building {binary} {self.kubernetes} (first build: minutes)")
            with tempfile.TemporaryDirectory(dir=self.bin_dir) as tmp:
                out = Path(tmp) / binary
                self._go(
                    [
                        "build",
                        "-trimpath",
                        "-ldflags",
                        f"-s -w {ldflags}",
                        "-o",
                        str(out),
                        f"k8s.io/kubernetes/cmd/{binary}",
                    ],
                    cwd=src,
                )
                out.replace(self.path(binary))  # complete or absent, never half written
            took[binary] = time.monotonic() - started
        return took

    def _fetch_etcd(self) -> None:
        """``apt-get download`` from trixie with a private apt configuration (the machine's own
        sources stay bookworm), then the etcd binary out of the package."""
        work = self.cache / "apt"
        for sub in ("lists/partial", "archives/partial", "etc"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        sources = work / "etc" / "trixie.list"
        sources.write_text("deb http://deb.debian.org/debian trixie main\n")
        options = [
            "-o",
            f"Dir::Etc::SourceList={sources}",
            "-o",
            "Dir::Etc::SourceParts=/dev/null",
            "-o",
            f"Dir::State::Lists={work / 'lists'}",
            "-o",
            f"Dir::Cache={work}",
            "-o",
            "APT::Get::List-Cleanup=0",
        ]
        for args in (["update"], ["download", ETCD_PACKAGE]):
            done = subprocess.run(
                ["apt-get", "-q", *options, *args],
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
                timeout=600,
            )
            if done.returncode != 0:
                raise LabError(
                    f"apt-get {' '.join(args)} (trixie) failed: {done.stderr.strip()[-800:]}",
                    hint="Debian's archive must answer; see ../shared/LAB.md",
                )
        debs = sorted(work.glob(f"{ETCD_PACKAGE}_*.deb"))
        if not debs:
            raise LabError(f"apt-get download {ETCD_PACKAGE} left no .deb in {work}")
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            subprocess.run(["dpkg-deb", "-x", str(debs[-1]), tmp], check=True, timeout=120)
            found = list(Path(tmp).glob("usr/bin/etcd"))
            if not found:
                raise LabError(f"{debs[-1].name} holds no usr/bin/etcd")
            shutil.copy2(found[0], self.path("etcd"))


_PAUSE_GO = """package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	children := make(chan os.Signal, 8)
	signal.Notify(children, syscall.SIGCHLD)
	go func() {
		for range children {
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}()
	<-stop
	os.Exit(0)
}
"""

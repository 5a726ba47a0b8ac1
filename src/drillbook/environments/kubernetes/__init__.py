"""The Kubernetes tier: a control plane built from Go modules for tests and air-gapped use."""

from drillbook.environments.kubernetes._build import BINARIES, ControlPlaneBuild, default_cache
from drillbook.environments.kubernetes._controlplane import (
    CRASH_LOOP_LABEL,
    NODE_NOT_READY_LABEL,
    ControlPlane,
    ControlPlaneState,
)
from drillbook.environments.kubernetes._kubectl import kubectl_step
from drillbook.environments.kubernetes._lab import (
    MANIFESTS,
    KubernetesLab,
    allowed_context,
    node_ready,
)
from drillbook.environments.kubernetes._nodes import (
    CLUSTER_LABEL,
    RealCluster,
    RealClusterState,
    kubelet_signal,
    node_container,
    real_clusters_left,
)
from drillbook.environments.kubernetes._platform import KubernetesPlatform, NeedsRealNode

__all__ = [
    "BINARIES",
    "CLUSTER_LABEL",
    "CRASH_LOOP_LABEL",
    "MANIFESTS",
    "NODE_NOT_READY_LABEL",
    "ControlPlane",
    "ControlPlaneBuild",
    "ControlPlaneState",
    "KubernetesLab",
    "KubernetesPlatform",
    "NeedsRealNode",
    "RealCluster",
    "RealClusterState",
    "allowed_context",
    "default_cache",
    "kubectl_step",
    "kubelet_signal",
    "node_container",
    "node_ready",
    "real_clusters_left",
]

"""The Kubernetes tier: a control plane built from Go modules for tests and air-gapped use."""

from drillbook.environments.kubernetes._build import BINARIES, ControlPlaneBuild, default_cache
from drillbook.environments.kubernetes._controlplane import ControlPlane, ControlPlaneState
from drillbook.environments.kubernetes._lab import MANIFESTS, KubernetesLab, allowed_context
from drillbook.environments.kubernetes._platform import KubernetesPlatform, NeedsRealNode

__all__ = [
    "BINARIES",
    "MANIFESTS",
    "ControlPlane",
    "ControlPlaneBuild",
    "ControlPlaneState",
    "KubernetesLab",
    "KubernetesPlatform",
    "NeedsRealNode",
    "allowed_context",
    "default_cache",
]

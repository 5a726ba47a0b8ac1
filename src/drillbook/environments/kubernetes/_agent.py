"""The node agent's API objects: what a real-node cluster creates so that NetworkPolicy is
enforced and claims of the default class get volumes (``node_agent.py`` is the program).

The program's source travels in a ConfigMap and runs in the lab's Python image (python3 and
iptables, nothing to pull), one pod per node on the host network: its iptables rules land in
the node's network namespace, its volumes in the node's ``/var/lib/drillbook/volumes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drillbook.environments.kubernetes.node_agent import PROVISIONER, VOLUMES_ROOT

__all__ = ["AGENT_NAME", "LOCAL_PATH_PROVISIONER", "node_agent_objects", "node_agent_source"]

LOCAL_PATH_PROVISIONER = PROVISIONER
AGENT_NAME = "drillbook-node-agent"
NAMESPACE = "kube-system"
_READ = ["get", "list", "watch"]


def node_agent_source() -> str:
    """The text of ``node_agent.py``, as the ConfigMap carries it."""
    return (Path(__file__).parent / "node_agent.py").read_text()


def _meta(name: str, namespaced: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"app": AGENT_NAME}}
    if namespaced:
        meta["namespace"] = NAMESPACE
    return meta


def _access() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(AGENT_NAME),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(AGENT_NAME, namespaced=False),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["pods", "namespaces", "persistentvolumeclaims"],
                    "verbs": _READ,
                },
                {
                    "apiGroups": ["networking.k8s.io"],
                    "resources": ["networkpolicies"],
                    "verbs": _READ,
                },
                {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": _READ},
                {
                    "apiGroups": [""],
                    "resources": ["persistentvolumes"],
                    "verbs": [*_READ, "create", "delete"],
                },
                {
                    "apiGroups": ["", "events.k8s.io"],
                    "resources": ["events"],
                    "verbs": ["create", "patch"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(AGENT_NAME, namespaced=False),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": AGENT_NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": AGENT_NAME, "namespace": NAMESPACE}],
        },
    ]


def _daemonset(image: str) -> dict[str, Any]:
    volumes = str(VOLUMES_ROOT)
    container = {
        "name": "agent",
        "image": image,
        "imagePullPolicy": "Never",
        "command": ["python3", "/agent/node_agent.py"],
        "env": [
            {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "PYTHONUNBUFFERED", "value": "1"},
        ],
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
        "readinessProbe": {
            "exec": {"command": ["test", "-f", "/tmp/agent-ready"]},
            "periodSeconds": 2,
        },
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
        "volumeMounts": [
            {"name": "agent", "mountPath": "/agent", "readOnly": True},
            {"name": "volumes", "mountPath": volumes},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(AGENT_NAME),
        "spec": {
            "selector": {"matchLabels": {"app": AGENT_NAME}},
            "template": {
                "metadata": {"labels": {"app": AGENT_NAME}},
                "spec": {
                    "serviceAccountName": AGENT_NAME,
                    "hostNetwork": True,
                    "dnsPolicy": "ClusterFirstWithHostNet",
                    "tolerations": [{"operator": "Exists"}],
                    "terminationGracePeriodSeconds": 5,
                    "containers": [container],
                    "volumes": [
                        {"name": "agent", "configMap": {"name": AGENT_NAME}},
                        {
                            "name": "volumes",
                            "hostPath": {"path": volumes, "type": "DirectoryOrCreate"},
                        },
                    ],
                },
            },
        },
    }


def node_agent_objects(image: str) -> list[dict[str, Any]]:
    """The objects to create, in order: access (ServiceAccount, ClusterRole and binding), the
    program (ConfigMap), the DaemonSet running it in ``image``, and the default StorageClass
    ``standard`` it provisions."""
    return [
        *_access(),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(AGENT_NAME),
            "data": {"node_agent.py": node_agent_source()},
        },
        _daemonset(image),
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": LOCAL_PATH_PROVISIONER,
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Delete",
        },
    ]

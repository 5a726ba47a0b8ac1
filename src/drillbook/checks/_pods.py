"""The lab checks on a Kubernetes lab whose nodes are real, as the Docker lab's run them: the
runbook's SQL through ``psql`` in the postgres pod (the host cannot connect to it), each program
``kubectl exec`` runs looked up with ``command -v`` in the pods, its HTTP GETs sent from inside
the service's own pod. Everything goes through ``kubectl exec`` (the API's exec stream)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.checks._postgres import Exec, Psql
from drillbook.checks.calls import Get, probe_calls
from drillbook.checks.commands import check_binaries
from drillbook.checks.sql import SqlCheck
from drillbook.errors import LabError

__all__ = ["pod_checks", "pod_exec", "pod_get", "pod_probe"]

# urllib in the pod, as lab_get does on the host: the status and body of an error answer too
_GET = """\
import json, sys, urllib.error, urllib.request
url, headers, timeout = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
try:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as r:
        out = [r.status, ""]
except urllib.error.HTTPError as exc:
    out = [exc.code, exc.read().decode(errors="replace")]
except OSError as exc:
    out = [0, str(exc)]
print(json.dumps(out))
"""


def pod_exec(platform: Any, service: str) -> Exec:
    """argv in the first ready pod of ``app=<service>``: its exit code and output."""

    def run(argv: list[str]) -> tuple[int, str]:
        result = platform.exec(service, argv, check=False)
        return int(result.exit_code), str(result.output)

    return run


def pod_probe(platform: Any) -> Callable[[str, str], bool | None]:
    """``command -v BINARY`` in a ready pod of ``app=<service>``."""

    def probe(service: str, binary: str) -> bool | None:
        try:
            result = platform.exec(
                service, ["sh", "-c", f"command -v {shlex.quote(binary)}"], check=False
            )
        except LabError:  # no ready pod of that service: nothing to look in
            return None
        return bool(result.exit_code == 0)

    return probe


def pod_get(platform: Any, timeout_s: float = 5.0) -> Get:
    """GETs from inside a ready pod of the service to its own port (127.0.0.1), the port found
    by name in the workload's template (``binance`` -> 8101)."""
    ports = {
        name: {
            p.name: p.container_port
            for c in workload.spec.template.spec.containers
            for p in c.ports or []
            if p.name
        }
        for _, name, workload in platform.lab.workloads()
    }

    def get(service: str, port: str, target: str, headers: Mapping[str, str]) -> tuple[int, str]:
        number = ports.get(service, {}).get(port)
        if number is None:
            return 0, f"no port named {port} on the pods of {service}"
        url = f"http://127.0.0.1:{number}{target}"
        argv = ["python3", "-c", _GET, url, json.dumps(dict(headers)), f"{timeout_s:g}"]
        try:
            result = platform.exec(service, argv, check=False)
        except LabError as exc:
            return 0, str(exc)
        first = result.output.splitlines()[0] if result.output else ""
        try:
            status, body = json.loads(first)
        except ValueError:  # python3 itself failed in the pod: its words
            return 0, f"exit {result.exit_code}: {result.output.strip()[-200:]}"
        return int(status), str(body)

    return get


def pod_checks(doc: RunbookDoc, lab: Any) -> tuple[list[Finding], list[str]]:
    """SQL in the postgres pod, binaries in the pods, HTTP GETs inside the pods (real nodes)."""
    from drillbook.environments.kubernetes import KubernetesPlatform

    platform = KubernetesPlatform(lab)
    run = pod_exec(platform, "postgres")
    runner = Psql(run, via=f"psql in pod {platform.pod('postgres')} (kubectl exec)")
    findings, notes = SqlCheck(runner, run).run(doc)
    findings += check_binaries(doc, pod_probe(platform))
    findings += probe_calls(doc, pod_get(platform))
    notes.append(f"binaries looked up with `command -v` in the pods of {lab.name}")
    notes.append(
        "HTTP GETs sent from inside the fake exchange's and the backend's pods to their own "
        "ports (no POST)"
    )
    return findings, notes

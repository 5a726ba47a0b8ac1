"""drillbook's view of the lab's detection pipeline: rules, timing, the responder's history."""

from __future__ import annotations

import io
import json
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from drillbook.detection._rules import (
    AlertRule,
    DetectionBound,
    PipelineTiming,
    detection_bound,
    parse_duration,
    rules_from_document,
)
from drillbook.environments.base import ServiceHandle
from drillbook.errors import ConfigError, LabError, WaitTimeout
from drillbook.waiting import Check, Wait

__all__ = ["AlertEvent", "AlertTimeout", "Detection", "RuleState"]

RULES_DIR = "/run/prometheus/rules"
RULES_SOURCE = "/etc/drillbook-monitoring/rules"


@dataclass(frozen=True)
class AlertEvent:
    """One transition of one alert as the responder received it."""

    seq: int
    name: str
    state: str  # firing | resolved
    received_at: float  # unix seconds, when the webhook arrived
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: str | None = None
    ends_at: str | None = None

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AlertEvent:
        return cls(
            seq=int(raw["seq"]),
            name=str(raw["name"]),
            state=str(raw["state"]),
            received_at=float(raw["received_at"]),
            labels=dict(raw.get("labels") or {}),
            annotations=dict(raw.get("annotations") or {}),
            starts_at=raw.get("starts_at"),
            ends_at=raw.get("ends_at"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "name": self.name,
            "state": self.state,
            "severity": self.severity,
            "received_at": self.received_at,
            "labels": dict(self.labels),
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
        }


@dataclass(frozen=True)
class RuleState:
    """An alert rule as the running Prometheus evaluates it."""

    rule: AlertRule
    state: str  # inactive | pending | firing
    health: str
    last_error: str = ""
    last_evaluation: str = ""


class AlertTimeout(WaitTimeout):
    """An alert did not reach the expected state within its bound."""

    def __init__(
        self, alert: str, state: str, timeout_s: float, bound: DetectionBound | None, observed: str
    ) -> None:
        self.alert = alert
        self.state = state
        self.bound = bound
        explained = f" (detection bound {bound.explain(state)})" if bound else ""
        super().__init__(
            f"alert {alert} to be {state}{explained}",
            timeout_s,
            observed,
            hint="`drillbook alerts` shows the history; check the rule in "
            "fixtures/monitoring/rules/ and the metric it reads",
        )


class _Lab(Protocol):
    def services(self) -> Mapping[str, ServiceHandle]: ...


class Detection:
    """Prometheus, Alertmanager and the responder of one lab, reached over loopback."""

    def __init__(
        self,
        prometheus_url: str,
        alertmanager_url: str,
        responder_url: str,
        *,
        lab: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        http_timeout_s: float = 2.0,
        fetch: Callable[[str, str, bytes | None, float], bytes] | None = None,
    ) -> None:
        """``fetch(url, method, body, timeout_s) -> body``: how a request travels (default
        plain HTTP over loopback; a Kubernetes lab's goes through its API server's service
        proxy); it raises LabError on a failure."""
        self.prometheus_url = prometheus_url.rstrip("/")
        self.alertmanager_url = alertmanager_url.rstrip("/")
        self.responder_url = responder_url.rstrip("/")
        self._lab = lab
        self._clock = clock
        self._sleep = sleep
        self._http_timeout_s = http_timeout_s
        self._timing: PipelineTiming | None = None
        self._fetch = fetch or _http_fetch

    @classmethod
    def for_kubernetes(cls, lab: Any) -> Detection:
        """The detection pipeline of a Kubernetes lab (``KubernetesLab``), which runs it in
        ``<namespace>-monitoring`` on real nodes; :class:`LabError` if it has none."""
        if not lab.has_monitoring():
            raise LabError(
                f"{lab.name}: no detection pipeline (namespace {lab.monitoring_namespace})",
                hint="it runs on real nodes only (`drillbook k8s up --nodes real`) and starts "
                "with the lab (`drillbook lab up --env kubernetes`)",
            )

        def fetch(url: str, method: str, body: bytes | None, timeout_s: float) -> bytes:
            service, _, path = url.partition("/")
            return bytes(lab.monitoring_fetch(service, "/" + path, method, body, timeout_s))

        # a URL here is "<service>/<path>": the proxy adds the rest
        return cls("prometheus", "alertmanager", "responder", lab=lab, fetch=fetch)

    @classmethod
    def for_lab(cls, lab: _Lab) -> Detection:
        """The detection pipeline of a running lab; :class:`LabError` if it has none."""
        handles = lab.services()
        missing = [s for s in ("prometheus", "alertmanager", "responder") if s not in handles]
        if missing:
            raise LabError(
                f"the lab has no {', '.join(missing)}: detection needs prometheus, "
                "alertmanager and responder",
                hint="start the lab with its default services (`drillbook lab up`)",
            )

        def url(name: str) -> str:
            return handles[name].endpoint("http").url

        return cls(url("prometheus"), url("alertmanager"), url("responder"), lab=lab)

    # -- HTTP ------------------------------------------------------------------------------
    def _request(self, url: str, method: str = "GET", data: bytes | None = None) -> Any:
        body = self._fetch(url, method, data, self._http_timeout_s)
        return json.loads(body) if body.strip().startswith((b"{", b"[")) else body.decode()

    def _prometheus(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        answer = self._request(f"{self.prometheus_url}{path}{query}")
        if not isinstance(answer, dict) or answer.get("status") != "success":
            raise LabError(f"Prometheus {path}: unexpected answer {str(answer)[:200]}")
        return answer["data"]

    # -- configuration ---------------------------------------------------------------------
    def timing(self, *, refresh: bool = False) -> PipelineTiming:
        """The intervals the running Prometheus and Alertmanager use (read from them)."""
        if self._timing is None or refresh:
            prom = yaml.safe_load(self._prometheus("/api/v1/status/config")["yaml"]) or {}
            glob = prom.get("global") or {}
            status = self._request(f"{self.alertmanager_url}/api/v2/status")
            am = yaml.safe_load((status.get("config") or {}).get("original") or "") or {}
            route = am.get("route") or {}
            self._timing = PipelineTiming(
                scrape_interval_s=parse_duration(glob.get("scrape_interval", "1m")),
                evaluation_interval_s=parse_duration(glob.get("evaluation_interval", "1m")),
                group_wait_s=parse_duration(route.get("group_wait", "30s")),
                group_interval_s=parse_duration(route.get("group_interval", "5m")),
                scrape_timeout_s=(
                    parse_duration(glob["scrape_timeout"]) if "scrape_timeout" in glob else None
                ),
            )
        return self._timing

    def rules(self) -> list[RuleState]:
        """Every alerting rule the running Prometheus has, with its current state."""
        states: list[RuleState] = []
        for group in self._prometheus("/api/v1/rules", type="alert")["groups"]:
            doc = {
                "groups": [
                    {
                        "name": group["name"],
                        "rules": [
                            {
                                "alert": r["name"],
                                "expr": r["query"],
                                "for": r.get("duration", 0),
                                "labels": r.get("labels") or {},
                                "annotations": r.get("annotations") or {},
                            }
                            for r in group["rules"]
                        ],
                    }
                ]
            }
            parsed = rules_from_document(doc, f"Prometheus rule group {group['name']}")
            for rule, raw in zip(parsed, group["rules"], strict=True):
                states.append(
                    RuleState(
                        rule=rule,
                        state=str(raw.get("state", "")),
                        health=str(raw.get("health", "")),
                        last_error=str(raw.get("lastError", "")),
                        last_evaluation=str(raw.get("lastEvaluation", "")),
                    )
                )
        return states

    def rule(self, name: str) -> RuleState:
        states = self.rules()
        for state in states:
            if state.rule.name == name:
                return state
        known = ", ".join(sorted({s.rule.name for s in states})) or "none"
        raise ConfigError(
            f"the lab's Prometheus has no alert rule named {name!r}",
            hint=f"its alerts are: {known}",
        )

    def bound(self, name: str) -> DetectionBound:
        """The detection bound of alert ``name`` under the running lab's intervals."""
        return detection_bound(self.rule(name).rule, self.timing())

    def query(self, expr: str) -> list[tuple[dict[str, str], float]]:
        """An instant query: ``(labels, value)`` per series."""
        data = self._prometheus("/api/v1/query", query=expr)
        return [(dict(r["metric"]), float(r["value"][1])) for r in data.get("result", [])]

    # -- the responder's history -----------------------------------------------------------
    def mark(self) -> int:
        """The responder's current sequence number: pass it as ``since`` to wait for news."""
        answer = self._request(f"{self.responder_url}/alerts?since={2**62}")
        return int(answer["seq"])

    def history(self, since: int = 0) -> list[AlertEvent]:
        """Every firing/resolved transition the responder recorded after ``since``."""
        answer = self._request(f"{self.responder_url}/alerts?since={since}")
        return [AlertEvent.from_json(e) for e in answer["events"]]

    def firing(self) -> list[AlertEvent]:
        """The alerts firing now, as the responder last heard."""
        answer = self._request(f"{self.responder_url}/alerts/active")
        return [AlertEvent.from_json(e) for e in answer["alerts"]]

    def quiet(self) -> Check:
        """Steady state for detection: no alert firing at the responder and no rule pending or
        firing in Prometheus (a drill injects only from here, so ``for:`` starts from zero)."""
        busy = sorted({f"{r.rule.name} {r.state}" for r in self.rules() if r.state != "inactive"})
        busy += sorted({f"{e.name} firing at the responder" for e in self.firing()})
        return Check(not busy, "quiet" if not busy else "; ".join(busy))

    def wait_quiet(self, timeout_s: float = 60.0) -> None:
        Wait(timeout_s=timeout_s, poll_s=0.25, sleep=self._sleep).until(
            self.quiet, "no alert pending or firing"
        )

    def wait_for_alert(
        self,
        name: str,
        state: str = "firing",
        timeout: float | None = None,
        *,
        since: int | None = None,
        labels: Mapping[str, str] | None = None,
        poll_s: float = 0.1,
    ) -> AlertEvent:
        """The first transition of alert ``name`` to ``state`` after ``since``.

        Without ``since``, the alert's latest transition counts if it is in ``state`` already.
        ``timeout`` defaults to the alert's detection bound (:meth:`bound`); on timeout
        :class:`AlertTimeout` names the alert, the bound and what was observed.
        """
        if state not in ("firing", "resolved"):
            raise ConfigError(f"wait_for_alert state={state!r}: expected 'firing' or 'resolved'")
        bound = self.bound(name)
        limit = bound.for_state(state) if timeout is None else timeout
        wanted = dict(labels or {})
        deadline = self._clock() + limit
        while True:
            events = [
                e
                for e in self.history(since or 0)
                if e.name == name and all(e.labels.get(k) == v for k, v in wanted.items())
            ]
            if since is None:
                events = events[-1:]
            hit = next((e for e in events if e.state == state), None)
            if hit is not None:
                return hit
            if self._clock() >= deadline:
                raise AlertTimeout(name, state, limit, bound, self._observe(name, since))
            self._sleep(poll_s)

    def _observe(self, name: str, since: int | None) -> str:
        parts: list[str] = []
        try:
            rs = self.rule(name)
            err = f", error: {rs.last_error}" if rs.last_error else ""
            parts.append(f"rule {name} is {rs.state or 'unknown'} (health {rs.health}{err})")
            result = self.query(rs.rule.expr)
            shown = ", ".join(f"{v:g}" for _, v in result[:3]) if result else "no series (false)"
            parts.append(f"its expression returns {shown}")
        except Exception as exc:  # diagnostics must not hide the timeout itself
            parts.append(f"rule state unavailable ({exc})")
        try:
            seen = [e for e in self.history(since or 0) if e.name == name]
            parts.append(
                f"{name} transitions seen: "
                + (", ".join(f"{e.state}@seq{e.seq}" for e in seen[-4:]) or "none")
            )
            firing = sorted({e.name for e in self.firing()})
            parts.append(f"firing now: {', '.join(firing) or 'nothing'}")
        except Exception as exc:
            parts.append(f"responder unavailable ({exc})")
        return "; ".join(parts)

    # -- changing the rules (sabotage variants, rule development) --------------------------
    def replace_rules(self, text: str, filename: str = "trading-bot.yml") -> None:
        """Load ``text`` as the lab Prometheus' only rule file and reload; :meth:`restore_rules`
        puts the project's rules back."""
        container = self._prometheus_container()
        container.exec_run(["sh", "-c", f"rm -f {RULES_DIR}/*.yml"])
        payload = text.encode()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(filename)
            info.size = len(payload)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(payload))
        container.put_archive(RULES_DIR, buf.getvalue())
        self._reload()

    def restore_rules(self) -> None:
        container = self._prometheus_container()
        code, out = container.exec_run(
            ["sh", "-c", f"rm -f {RULES_DIR}/*.yml && cp {RULES_SOURCE}/*.yml {RULES_DIR}/"]
        )
        if code != 0:
            raise LabError(f"could not restore the rule files: {out.decode(errors='replace')}")
        self._reload()

    def _reload(self) -> None:
        self._request(f"{self.prometheus_url}/-/reload", method="POST", data=b"")

    def _prometheus_container(self) -> Any:
        if self._lab is not None and hasattr(self._lab, "monitoring_fetch"):
            raise LabError(
                "changing the rules of a running lab is done on the Docker lab only "
                "(a Kubernetes lab's Prometheus reads them from a ConfigMap)"
            )
        if self._lab is None or not hasattr(self._lab, "container"):
            raise LabError("changing rules needs the lab itself: use Detection.for_lab(lab)")
        return self._lab.container("prometheus")


def _http_fetch(url: str, method: str, data: bytes | None, timeout_s: float) -> bytes:
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return bytes(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise LabError(f"{method} {url} answered {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LabError(f"{method} {url} failed: {reason}") from exc

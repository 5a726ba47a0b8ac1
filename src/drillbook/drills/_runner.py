"""The drill runner: steady state, inject, detect, respond, recover, verify; always revert.

The fault is reverted on every exit path (success, SLA breach, exception, timeout, Ctrl-C,
SIGTERM turned into KeyboardInterrupt by the CLI), and steady state is re-checked after it.
Every drill that started reaches ``drill_finished``, also one aborted while it reverts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from drillbook.detection import AlertTimeout, Detection, DetectionBound
from drillbook.drills._model import Drill
from drillbook.drills._operator import Operator
from drillbook.environments import LabLock
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.environments.kubernetes import NeedsRealNode
from drillbook.errors import ConfigError, DrillbookError, LabError, SLABreached, WaitTimeout
from drillbook.probes import Probe
from drillbook.reporting import RunEventHandler
from drillbook.sla import Budget, DrillResult, IncidentClock, Note, Phase, Profile, evaluate
from drillbook.waiting import Check, Wait

__all__ = ["DrillRunner"]

POLL_S = 0.1  # probes poll at 10 Hz while waiting: phase times are accurate to ~100 ms
_CUT_SHORT = "REVERT INTERRUPTED: the lab may need `drillbook lab clean`"


@dataclass
class _Progress:
    """What a drill has changed so far: the revert undoes exactly that."""

    injected: bool = False  # the fault was injected (revert it)
    lab_changed: bool = False  # setup changed the lab (run the teardown)


class DrillRunner:
    def __init__(
        self,
        lab: DockerLab,
        profile: Profile,
        handlers: Sequence[RunEventHandler] = (),
        *,
        detection: Detection | Literal["auto"] | None = "auto",
        clock: Callable[[], float] = time.monotonic,
        evidence_dir: Path | None = None,
        operator: Operator | None = None,
        platform: Any = None,
    ) -> None:
        """``detection``: the lab's alert pipeline; ``"auto"`` uses it when the lab runs
        Prometheus, Alertmanager and the responder, ``None`` runs probe-only drills."""
        self.lab = lab
        self.detection = _detection_for(lab) if detection == "auto" else detection
        # the runbook verbs steps use: the Docker lab's by default; a KubernetesPlatform for a
        # Kubernetes lab (the same verb names)
        self.platform = platform or DockerPlatform(lab, evidence_dir=evidence_dir)
        # a human in the loop (game days): acknowledges, and may do steps by hand
        self.operator = operator
        self.profile = profile
        self.handlers = list(handlers)
        self._clock_fn = clock

    def _emit(self, name: str, *args: object) -> None:
        for handler in self.handlers:
            getattr(handler, name)(*args)

    def _all_ok(self, drill: Drill, probes: Sequence[Probe[Any]] | None = None) -> Check:
        check = Check(True, "all probes pass")
        for probe in drill.probes if probes is None else probes:
            result = probe.check(self.lab)
            if not result.ok:
                check = Check(False, f"{probe.name}: {result.detail}")
                break
        self._emit("health", drill, self._clock_fn(), check.ok, check.detail)
        return check

    def _drive(
        self,
        drill: Drill,
        budgets: list[Budget],
        bound: DetectionBound | None,
        clock: IncidentClock,
        mark: Callable[..., None],
        progress: _Progress,
    ) -> None:
        """Steady state, inject, detect (probe, then alert), respond, recover, clear, verify."""
        detection = self.detection if bound is not None else None
        since = 0  # the responder's history position before the fault
        progress.lab_changed = bool(drill.setup)
        for step in drill.setup:
            step.run(self.platform)
        Wait(timeout_s=30, poll_s=POLL_S).until(
            lambda: self._all_ok(drill),
            "steady state before the drill",
            hint="the lab is not healthy to begin with: `drillbook lab status`",
        )
        if detection is not None and bound is not None:
            detection.wait_quiet(timeout_s=60)
            since = detection.mark()
        mark(Phase.STEADY_STATE)
        progress.injected = True
        drill.fault.inject(self.lab)
        mark(Phase.INJECTED, drill.fault.name)
        Wait(timeout_s=30, poll_s=POLL_S).until(
            lambda: drill.fault.verify_active(self.lab), f"{drill.fault.name} to take effect"
        )
        mark(Phase.ACTIVE, drill.fault.name)
        detect_budget = _budget(budgets, "time_to_detect", 60.0)
        if drill.planned:  # a planned procedure: nothing to detect, the clock starts now
            seen = Check(True, f"planned: {drill.fault.name}")
        else:
            seen = Wait(timeout_s=detect_budget + 5, poll_s=POLL_S).until(
                lambda: _negate(self._all_ok(drill)), "a probe to notice the fault"
            )
        mark(Phase.DETECTED_PROBE, seen.detail)
        if detection is not None and bound is not None and not drill.planned:
            # the runbook starts at the alert: automation responds when it fires
            self._await_alert(drill, bound, since, "firing", Phase.ACTIVE, clock, mark)
        if self.operator is None:
            mark(Phase.RESPONDED, "automation")
        else:
            who = self.operator.acknowledge(drill, seen.detail)
            mark(Phase.RESPONDED, f"acknowledged by {who}", actor=who)
        last_of_stage = {step.stage: step for step in drill.steps if step.stage}
        for step in drill.steps:
            mark(Phase.STEP_STARTED, step.runbook, step=step.name)
            # "automation", or the person who did the step by hand (the clock records who)
            actor = "automation" if self.operator is None else self.operator.perform(drill, step)
            detail = f"by {actor}"
            if actor == "automation":
                try:
                    step.run(self.platform)
                except NeedsRealNode as exc:  # said in the journal, never faked
                    actor, detail = "none", f"skipped: {exc}"
            mark(Phase.STEP_FINISHED, detail, step=step.name, actor=actor)
            if step.stage and last_of_stage[step.stage] is step:
                mark(Phase.STAGE_DONE, step.stage, step=step.stage)
        self._await_recovery(drill, budgets, clock, mark)
        if detection is not None and bound is not None and drill.alert_clears_on_recovery:
            self._await_alert(drill, bound, since, "resolved", Phase.RECOVERED, clock, mark)
        skipped = self._verify(drill)
        mark(Phase.VERIFIED, f"invariants skipped: {'; '.join(skipped)}" if skipped else "")

    def _verify(self, drill: Drill) -> list[str]:
        """Check each invariant (DrillbookError on the first violated); those that need a
        running process on simulated nodes are returned, said in the journal, never held."""
        skipped = []
        for invariant in drill.invariants:
            try:
                check = invariant.check(self.platform)
            except NeedsRealNode as exc:
                skipped.append(f"{invariant.name}: {exc}")
                continue
            if not check.ok:
                raise DrillbookError(f"invariant {invariant.name!r} violated: {check.detail}")
        return skipped

    def alert_bound(self, drill: Drill) -> DetectionBound | None:
        """The detection bound of the drill's alert, or None without detection or rule, or
        when the drill's alert is not meant to fire (``Drill.alert_fires``)."""
        if self.detection is None or not drill.alert_fires:
            return None
        try:
            return self.detection.bound(drill.alert)
        except ConfigError:
            return None  # the lab's rules have no such alert: a probe-only drill

    def run(self, drill: Drill) -> DrillResult:
        """Run one drill, holding the lab's lock: a second runner on the same lab is refused
        with :class:`~drillbook.environments.LabInUse` (who holds it, since when)."""
        name = getattr(self.lab, "name", None)
        if not isinstance(name, str) or not name:
            return self._run(drill)
        with LabLock(name).held():
            return self._run(drill)

    def _run(self, drill: Drill) -> DrillResult:
        budgets = [self.profile.tighten(b) for b in drill.budgets]
        bound = self.alert_bound(drill)
        if bound is not None:
            # computed from the lab's intervals and the rule, not from the runbook: never tightened
            budgets += [
                Budget("time_to_alert", bound.fire_s, f"detection bound {bound.explain()}"),
            ]
            if drill.alert_clears_on_recovery:
                budgets.append(
                    Budget(
                        "time_to_clear",
                        bound.resolve_s,
                        f"resolution bound {bound.explain('resolved')}",
                    )
                )
        clock = IncidentClock(clock=self._clock_fn)
        result = DrillResult(drill.name, drill.alert, "failed", clock.marks, budgets)
        started = self._clock_fn()
        self._emit("drill_started", drill)

        def mark(phase: Phase, detail: str = "", **kw: object) -> None:
            self._emit("phase", drill, clock.mark(phase, detail, **kw))  # type: ignore[arg-type]

        progress = _Progress()
        try:
            self._drive(drill, budgets, bound, clock, mark, progress)
            result.outcome = "passed"
        except SLABreached as exc:
            result.outcome, result.error = "breached", str(exc)
            result.breach_error = exc
        except KeyboardInterrupt:
            result.outcome, result.error = "aborted", "interrupted"
            raise
        except (DrillbookError, Exception) as exc:
            result.outcome, result.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            # the callers that own Ctrl-C and SIGTERM hold an abort off until drill_finished
            self._emit("drill_finishing", drill)
            cut = self._revert_uncut(drill, result, mark, progress)
            result.breaches = evaluate(clock, budgets) if result.outcome != "aborted" else []
            for breach in result.breaches:
                self._emit("breach", drill, breach)
            if result.breaches and result.outcome == "passed":
                result.outcome = "breached"
                result.error = str(result.breaches[0].error())
            if cut is not None:  # after the breaches: they name the drill's error first
                result.outcome = "aborted" if result.outcome == "passed" else result.outcome
                result.error = "; ".join(filter(None, [result.error, _CUT_SHORT]))
            result.measured = _measured(clock, budgets)
            result.steps = clock.step_durations()
            result.wall_s = self._clock_fn() - started
            self._emit("drill_finished", drill, result)
            if cut is not None:
                raise cut
        return result

    def _revert_uncut(
        self, drill: Drill, result: DrillResult, mark: Callable[..., None], progress: _Progress
    ) -> KeyboardInterrupt | None:
        """Revert what the drill changed. An abort that nobody held off (a caller without
        ``drill_finishing``, or the revert itself interrupted) is returned, not raised: the
        result, its breach with it, still reaches ``drill_finished`` before the run stops."""
        if not (progress.injected or progress.lab_changed):
            return None
        try:
            self._revert(drill, result, mark, fault=progress.injected)
        except KeyboardInterrupt as exc:
            text = "aborted while this drill reverted (the revert was cut short); the run stops"
            result.notes.append(Note(self._clock_fn(), time.time(), "drillbook", text))
            return exc
        return None

    def _await_alert(
        self,
        drill: Drill,
        bound: DetectionBound,
        since: int,
        state: str,
        start: Phase,
        clock: IncidentClock,
        mark: Callable[..., None],
    ) -> None:
        """Wait for the drill's alert to reach ``state`` within its bound from ``start``."""
        assert self.detection is not None
        begun = clock.first(start)
        assert begun is not None
        limit = bound.for_state(state)
        remaining = max(0.0, begun.at + limit - self._clock_fn())
        measure = "time_to_alert" if state == "firing" else "time_to_clear"
        try:
            event = self.detection.wait_for_alert(
                drill.alert, state, timeout=remaining, since=since
            )
        except AlertTimeout as exc:
            raise SLABreached(
                f"{measure} (never reached)",
                self._clock_fn() - begun.at,
                limit,
                f"{'detection' if state == 'firing' else 'resolution'} bound "
                f"{bound.explain(state)}; last observed: {exc.observed}",
            ) from exc
        at = self._clock_fn() - max(0.0, time.time() - event.received_at)
        phase = Phase.DETECTED_ALERT if state == "firing" else Phase.ALERT_RESOLVED
        mark(phase, f"{drill.alert} {state} (webhook #{event.seq})", at=max(at, begun.at))

    def _await_recovery(
        self, drill: Drill, budgets: list[Budget], clock: IncidentClock, mark: Callable[..., None]
    ) -> None:
        """Recovered = every probe passes continuously for the profile's settle period."""
        recover_budget = _budget(budgets, "time_to_recover", 600.0)
        active = clock.first(Phase.ACTIVE)
        assert active is not None
        deadline = active.at + recover_budget + 1.0
        streak_from: float | None = None
        last: Check | None = None
        while self._clock_fn() < deadline:
            last = self._all_ok(drill, drill.recovered_when or None)
            now = self._clock_fn()
            if last.ok:
                streak_from = now if streak_from is None else streak_from
                if now - streak_from >= self.profile.settle_s:
                    mark(Phase.RECOVERED, f"healthy for {self.profile.settle_s:g}s", at=streak_from)
                    return
            else:
                streak_from = None
            time.sleep(POLL_S)
        waited = self._clock_fn() - active.at
        if last is None:  # the steps ran past the deadline: one look, so the breach says what is
            last = self._all_ok(drill, drill.recovered_when or None)
            observed = f"(the runbook steps ran past the budget) {last.detail}"
        else:
            observed = last.detail
        raise SLABreached(
            "time_to_recover (never reached)",
            waited,
            recover_budget,
            f"{_source(budgets, 'time_to_recover')}; last observed: {observed}",
        )

    def _revert(
        self, drill: Drill, result: DrillResult, mark: Callable[..., None], *, fault: bool = True
    ) -> None:
        try:
            if fault:
                drill.fault.revert(self.lab)
                result.reverted = True
                mark(Phase.REVERTED, drill.fault.name)
            for step in drill.teardown:
                step.run(self.platform)
        except Exception as exc:  # report, never hide: the lab may need `drillbook lab clean`
            result.error += f"; REVERT FAILED: {type(exc).__name__}: {exc}"
            if result.outcome == "passed":
                result.outcome = "failed"  # a lab left broken is not a passed drill
            return
        try:
            Wait(timeout_s=60, poll_s=POLL_S).until(
                lambda: self._all_ok(drill), "steady state after revert"
            )
            result.steady_after = True
        except WaitTimeout as exc:
            result.error += f"; lab not back to steady state after revert: {exc.observed}"
            if result.outcome == "passed":
                result.outcome = "failed"


def _detection_for(lab: DockerLab) -> Detection | None:
    try:
        if hasattr(lab, "monitoring_fetch"):  # a Kubernetes lab: in the cluster, real nodes
            return Detection.for_kubernetes(lab)
        return Detection.for_lab(lab)
    except LabError:
        return None


def _negate(check: Check) -> Check:
    return Check(not check.ok, check.detail)


def _budget(budgets: list[Budget], measure: str, default: float) -> float:
    return next((b.seconds for b in budgets if b.measure == measure), default)


def _source(budgets: list[Budget], measure: str) -> str:
    return next((b.source for b in budgets if b.measure == measure), "default")


def _measured(clock: IncidentClock, budgets: Sequence[Budget] = ()) -> dict[str, float]:
    from drillbook.sla import MEASURES, measure_named

    names = [*MEASURES, *(b.measure for b in budgets if b.measure not in MEASURES)]
    found = {}
    for name in names:
        value = measure_named(name).observe(clock)
        if value is not None:
            found[name] = round(value, 3)
    return found

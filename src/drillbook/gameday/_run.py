"""Running a game-day plan on a lab: each scenario a drill run, then the residue check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from drillbook.drills import DrillRunner, Operator, lab_state, residue
from drillbook.environments.docker import DockerLab
from drillbook.gameday._console import GameDayAborted, GameDayConsole
from drillbook.gameday._operators import RehearsalOperator, TerminalOperator
from drillbook.gameday._plan import Plan
from drillbook.reporting import DrillLike, RunEventHandler
from drillbook.sla import DrillResult, Profile

__all__ = ["GameDayResult", "RunnerFactory", "run_plan"]

#: a scenario's drill runner on a lab of another backend: (profile, handlers, operator) -> runner
RunnerFactory = Callable[[Profile, Sequence[RunEventHandler], Operator], DrillRunner]


@dataclass(frozen=True)
class GameDayResult:
    results: tuple[DrillResult, ...]
    residue: tuple[str, ...] = ()  # what the plan left changed in the lab (empty: nothing)
    aborted: str = ""  # how it was aborted ("a", "Ctrl-C", "SIGTERM", ...); empty: ran to the end

    @property
    def passed(self) -> bool:
        return not self.aborted and not self.residue and all(r.passed for r in self.results)


class _Collect(RunEventHandler):
    def __init__(self) -> None:
        self.results: list[DrillResult] = []

    def drill_finished(self, drill: DrillLike, result: DrillResult) -> None:
        self.results.append(result)


def run_plan(
    plan: Plan,
    lab: DockerLab,
    profile: Profile,
    console: GameDayConsole,
    *,
    rehearsal: bool = False,
    handlers: Sequence[RunEventHandler] = (),
    evidence_dir: Path | None = None,
    runner: RunnerFactory | None = None,
    state: Callable[[], dict[str, Any]] | None = None,
) -> GameDayResult:
    """Run every scenario of ``plan`` in order on the running ``lab``. An abort
    (:class:`GameDayAborted`) stops the plan after the runner has reverted the fault; the
    residue check runs only when the plan ran to the end (an aborted lab is removed whole);
    an abort during it is an aborted plan too. ``runner`` and ``state``: each scenario's drill
    runner and the lab's picture for the residue check where the lab is not a Docker lab (a
    Kubernetes lab: ``drillbook gameday --env kubernetes``)."""

    def docker_runner(p: Profile, h: Sequence[RunEventHandler], o: Operator) -> DrillRunner:
        return DrillRunner(lab, p, h, evidence_dir=evidence_dir, operator=o)

    runner_for: RunnerFactory = runner or docker_runner
    picture: Callable[[], dict[str, Any]] = state or (lambda: lab_state(lab))
    # budgets are tightened per scenario (profile, then the plan): the runner only settles
    untightened = Profile(profile.name, settle_s=profile.settle_s, description=profile.description)
    collect = _Collect()
    total = len(plan.scenarios)
    try:
        before = picture()
        for index, scenario in enumerate(plan.scenarios, 1):
            budgets = scenario.effective_budgets(profile)
            console.begin(scenario, index, total, budgets)
            operator: Operator
            if rehearsal:
                operator = RehearsalOperator(console, scenario)
            else:
                console.ask("    Enter: inject the fault and start the clock > ")
                operator = TerminalOperator(console, scenario)
            # the console first: it hands notes and roles to the result before reporters write
            drill_runner = runner_for(untightened, [console, collect, *handlers], operator)
            drill_runner.run(replace(scenario.drill, budgets=budgets))
            # every reporter has the result: an abort from now on stops the plan at once
            console.finishing = False
            if console.pending:  # aborted while the drill was reverting: it finished first
                return GameDayResult(tuple(collect.results), aborted=console.pending)
        left = residue(before, picture())
    except GameDayAborted as exc:
        return GameDayResult(tuple(collect.results), aborted=exc.how)
    return GameDayResult(tuple(collect.results), tuple(left))

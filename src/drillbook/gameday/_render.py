"""A plan as text (``drillbook gameday --dry-run``): roles, budgets and who does each step."""

from __future__ import annotations

from drillbook.gameday._console import clock_text
from drillbook.gameday._plan import Plan
from drillbook.sla import Profile

__all__ = ["render_plan"]


def render_plan(plan: Plan, profile: Profile, *, rehearsal: bool = False) -> str:
    people = plan.people()
    mode = "; rehearsal: automation plays every role" if rehearsal else ""
    env = f", env {plan.env}" if plan.env else ""
    lines = [f"game day {plan.name!r} ({plan.source}){env}, profile {profile.name}{mode}"]
    lines += [f"  {line}" for line in plan.description.splitlines()]
    lines.append("roles:")
    width = max(len(r.name) for r in plan.roles)
    who_width = max(len(r.who) for r in plan.roles)
    for role in plan.roles:
        lines.append(
            f"  {role.name.ljust(width)}  {role.who.ljust(who_width)}  {role.description}".rstrip()
        )
    for index, scenario in enumerate(plan.scenarios, 1):
        drill = scenario.drill
        lines.append(f"scenario {index}: {drill.name} ({drill.alert}), fault {drill.fault.name}")
        lines += [f"    | {line}" for line in scenario.briefing.splitlines()]
        ack = scenario.acknowledge
        acker = f"automation as {ack}" if rehearsal else f"{ack} ({people[ack]})"
        lines.append(f"    acknowledges: {acker}")
        for number, step in enumerate(scenario.steps, 1):
            if step.by == "human" and step.role is not None:
                doer = f"by hand: {step.role} ({people[step.role]})"
                doer = f"automation (for {step.role})" if rehearsal else doer
            else:
                doer = "automation" + (f" (watched by {step.role})" if step.role else "")
            lines.append(f"    step {number}: {step.step}  -> {doer}")
        for budget in scenario.effective_budgets(profile):
            lines.append(
                f"    budget: {budget.measure} <= {clock_text(budget.seconds)} "
                f"({budget.seconds:g}s; {budget.source})"
            )
    lines.append(
        f"dry run: {len(plan.scenarios)} scenario(s), profile {profile.name}; nothing was touched"
    )
    return "\n".join(lines)

"""A game day's section of the journal (``"gameday"``: plan, env, roles, the scenarios left out
and why, how it was aborted) read back as typed values for the run page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from drillbook.reporting.html._fields import Fields

__all__ = ["GameDayView", "RoleView", "gameday_from_data"]


@dataclass(frozen=True)
class RoleView:
    name: str
    who: str
    description: str = ""


@dataclass(frozen=True)
class GameDayView:
    plan: str
    file: str = ""
    env: str = ""
    rehearsal: bool = False
    roles: tuple[RoleView, ...] = ()
    scenarios: tuple[str, ...] = ()  # the plan's drills in order (older journals: not kept)
    left_out: Mapping[str, str] = field(default_factory=dict)  # drill -> why ("" not said)
    aborted: str = ""  # how the game day was aborted; empty: it ran to the end

    def order(self, played: list[str]) -> list[str]:
        """Every scenario in the plan's order: those played, left out or never reached (an
        abort); an older journal without the plan's list has the played, then the left out."""
        if self.scenarios:
            return list(self.scenarios)
        return [*played, *(d for d in self.left_out if d not in played)]


def gameday_from_data(run: Fields) -> GameDayView | None:
    """The journal's game-day section, None when the run was not a game day."""
    f = run.mapping("gameday")
    if f is None:
        return None
    roles = f.mapping("roles")
    reasons = f.mapping("left_out_reasons")
    why = {d: reasons.text(d, "") for d in reasons.data} if reasons is not None else {}
    aborted = f.data.get("aborted")
    return GameDayView(
        plan=f.text("plan", ""),
        file=f.text("file", ""),
        env=f.text("env", ""),
        rehearsal=f.flag("rehearsal"),
        roles=tuple(_role(roles, name) for name in roles.data) if roles is not None else (),
        scenarios=tuple(f.texts("scenarios")),
        left_out={d: why.get(d, "") for d in f.texts("left_out")},
        aborted=f.text("aborted") if aborted not in (None, False, "") else "",
    )


def _role(roles: Fields, name: str) -> RoleView:
    role = None if isinstance(roles.data[name], str) else roles.mapping(name)
    if role is None:  # role -> who (or nobody)
        return RoleView(name, roles.text(name, ""))
    return RoleView(name, role.text("who", ""), role.text("description", ""))

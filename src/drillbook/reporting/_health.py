"""Health over a drill, kept small: only the transitions of the runner's 10 Hz probe polls."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_TRANSITIONS", "HealthLog", "HealthSample"]

# a flapping probe must not grow a journal without bound; the tail end is kept
MAX_TRANSITIONS = 500


@dataclass(frozen=True)
class HealthSample:
    at: float  # monotonic seconds, the clock of Mark.at
    ok: bool
    detail: str


class HealthLog:
    """Per drill name: the polls at which health changed (the first poll counts as a change)."""

    def __init__(self) -> None:
        self._by_drill: dict[str, list[HealthSample]] = {}
        self._latest: dict[str, HealthSample] = {}

    def reset(self, drill: str) -> None:
        self._by_drill[drill] = []
        self._latest.pop(drill, None)

    def add(self, drill: str, at: float, ok: bool, detail: str) -> None:
        samples = self._by_drill.setdefault(drill, [])
        self._latest[drill] = HealthSample(at, ok, detail)
        if samples and samples[-1].ok == ok:
            return
        samples.append(HealthSample(at, ok, detail))
        if len(samples) > MAX_TRANSITIONS:
            del samples[0]

    def transitions(self, drill: str, t0: float) -> list[dict[str, object]]:
        """The journal's ``"health"``: ``t_s`` relative to ``t0`` (the drill's first mark). The
        steady-state polls before it collapse into one sample at 0, the state the drill began in;
        the last poll ends the list (its state is the last transition's)."""
        samples = self._by_drill.get(drill, [])
        before = [s for s in samples if s.at < t0]
        kept = ([HealthSample(t0, before[-1].ok, before[-1].detail)] if before else []) + [
            s for s in samples if s.at >= t0
        ]
        latest = self._latest.get(drill)
        if kept and latest is not None and latest.at > kept[-1].at:
            kept.append(latest)  # the last poll closes the band: health is known until then
        return [{"t_s": round(s.at - t0, 3), "ok": s.ok, "detail": s.detail[:300]} for s in kept]

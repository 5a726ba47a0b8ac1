"""The incident timeline of one drill as SVG, drawn in Python (no plotting dependency).

Rows, top to bottom: budget deadlines (from the start of each measure; a breached one red),
the fault (injected to reverted), health (green healthy, red failing, grey not sampled), the
clock's phases, each runbook step as a bar, and the time axis with T0 = the fault in effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from drillbook.reporting.html._model import DrillView, MarkView, deadlines, step_bars
from drillbook.sla import Phase

__all__ = ["COLORS", "FONT", "PHASE_LABELS", "nice_step", "timeline_svg"]

WIDTH = 1000
LEFT, RIGHT = 118, 28
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
CHAR_W = 6.3  # average advance of an 11 px label: enough to keep labels apart
LANE_H = 15

COLORS = {
    "ok": "#2f9e60",
    "bad": "#d64541",
    "unknown": "#cfd5dc",
    "fault": "#f08c2e",
    "deadline": "#5f6f82",
    "breach": "#d0021b",
    "step": "#3a78c2",
    "skipped": "#9aa5b1",
    "grid": "#e6e9ee",
    "text": "#1f2933",
    "muted": "#616e7c",
    "note": "#8a5a00",
}

PHASE_LABELS = {
    Phase.STEADY_STATE.value: "steady",
    Phase.INJECTED.value: "injected",
    Phase.ACTIVE.value: "in effect (T0)",
    Phase.DETECTED_PROBE.value: "detected",
    Phase.DETECTED_ALERT.value: "alert fired",
    Phase.RESPONDED.value: "responded",
    Phase.STAGE_DONE.value: "stage done",
    Phase.RECOVERED.value: "recovered",
    Phase.ALERT_RESOLVED.value: "alert cleared",
    Phase.VERIFIED.value: "verified",
    Phase.REVERTED.value: "reverted",
}
_PHASE_COLORS = {
    Phase.INJECTED.value: COLORS["fault"],
    Phase.ACTIVE.value: "#c25e00",
    Phase.DETECTED_PROBE.value: "#7b4bb7",
    Phase.DETECTED_ALERT.value: "#b03a8c",
    Phase.RESPONDED.value: COLORS["step"],
    Phase.STAGE_DONE.value: "#1f6f8b",
    Phase.RECOVERED.value: COLORS["ok"],
    Phase.ALERT_RESOLVED.value: "#5bb381",
    Phase.VERIFIED.value: "#1d6b43",
}
_STEPS = (Phase.STEP_STARTED.value, Phase.STEP_FINISHED.value)


def _lanes(spans: Sequence[tuple[float, float]], gap: float = 8.0) -> list[int]:
    """Greedy lane per span (already in x order): the first lane whose last label ended."""
    ends: list[float] = []
    lanes = []
    for x0, x1 in spans:
        lane = next((i for i, end in enumerate(ends) if end + gap <= x0), len(ends))
        if lane == len(ends):
            ends.append(x1)
        else:
            ends[lane] = x1
        lanes.append(lane)
    return lanes


def nice_step(span: float) -> float:
    raw = span / 8
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _text_w(text: str) -> float:
    return len(text) * CHAR_W


def _label(text: str) -> str:
    return escape(text if len(text) <= 48 else text[:47] + "…")


def _fmt(seconds: float) -> str:
    return f"{seconds:.1f}".rstrip("0").rstrip(".") if abs(seconds) < 100 else f"{seconds:.0f}"


def timeline_svg(drill: DrillView, *, title: bool = True) -> str:
    """The drill's timeline as a standalone SVG document (with width and height)."""
    return _Timeline(drill).draw(title=title)


class _Timeline:
    """One drawing: the time scale, the output, and a y cursor moving down row by row."""

    def __init__(self, drill: DrillView) -> None:
        self.drill = drill
        marks = drill.timeline
        self.lines = deadlines(drill)
        active = drill.first(Phase.ACTIVE.value)
        self.t0 = active.t_s if active else 0.0
        self.last = max([m.t_s for m in marks] + [h.t_s for h in drill.health] + [1.0])
        # a deadline far beyond the drill would squash it: drawn as an arrow at the edge instead
        self.shown = [d for d in self.lines if d.breached or d.at_s <= self.last * 1.25]
        ends = [d.at_s for d in self.shown] + [d.end_s or 0.0 for d in self.shown]
        self.t_max = max([self.last, *ends]) * 1.03
        self.t_min = min([0.0] + [m.t_s for m in marks])
        self.plot_w = WIDTH - LEFT - RIGHT
        self.out: list[str] = []
        self.y = 10.0

    def x(self, t: float) -> float:
        return LEFT + (min(t, self.t_max) - self.t_min) / (self.t_max - self.t_min) * self.plot_w

    def draw(self, *, title: bool) -> str:
        if title:
            self._title()
        deadline_top = self._deadline_labels()
        fault_y = self.y
        self._fault()
        self._health()
        self._phases()
        self._notes()
        self._steps()
        self._deadlines(deadline_top, fault_y)
        self._axis()
        self.out.append(_legend(self.y))
        height = self.y + 18
        body = "\n".join(self.out)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
            f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="{FONT}">\n'
            f'<rect width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>\n{body}\n</svg>\n'
        )

    def _title(self) -> None:
        d = self.drill
        color = COLORS["ok"] if d.outcome == "passed" else COLORS["bad"]
        self.out.append(
            f'<text x="{LEFT}" y="{self.y + 12}" font-size="14" font-weight="bold" '
            f'fill="{COLORS["text"]}">{escape(d.drill)}'
            f'<tspan fill="{COLORS["muted"]}" font-weight="normal"> · {escape(d.alert)}</tspan>'
            f'<tspan fill="{color}"> · {escape(d.outcome.upper())}</tspan></text>'
        )
        self.y += 24

    def _deadline_labels(self) -> float:
        """One label per budget deadline, in lanes where they would overlap."""
        top = self.y
        labels, spans = [], []
        for d in sorted(self.lines, key=lambda d: d.at_s):
            text = f"{d.measure.replace('time_to_', '')} ≤ {_fmt(d.budget_s)}s"
            if d not in self.shown:
                text += f" (at T+{_fmt(d.at_s - self.t0)}s ▸)"
            xd = self.x(d.at_s) if d in self.shown else WIDTH - RIGHT
            w = _text_w(text)
            x0 = min(max(xd - w / 2, LEFT), WIDTH - RIGHT - w)
            labels.append((d, text))
            spans.append((x0, x0 + w))
        lanes = _lanes(spans)
        for (d, text), (x0, _), lane in zip(labels, spans, lanes, strict=True):
            color = COLORS["breach"] if d.breached else COLORS["deadline"]
            weight = ' font-weight="bold"' if d.breached else ""
            self.out.append(
                f'<text x="{x0:.1f}" y="{self.y + 11 + lane * LANE_H:.1f}" font-size="11" '
                f'fill="{color}"{weight}>{escape(text)}</text>'
            )
        n_lanes = max(lanes, default=-1) + 1
        if n_lanes:
            self.out.append(_row_label("deadlines", top + 11))
        self.y += n_lanes * LANE_H + 4
        return top

    def _fault(self) -> None:
        injected = self.drill.first(Phase.INJECTED.value)
        reverted = self.drill.first(Phase.REVERTED.value)
        self.out.append(_row_label("fault", self.y + 9))
        self.out.append(_band(LEFT, self.y + 2, self.plot_w, 10, COLORS["grid"]))
        if injected:
            x0 = self.x(injected.t_s)
            x1 = self.x(reverted.t_s if reverted else self.last)
            self.out.append(_band(x0, self.y + 2, x1 - x0, 10, COLORS["fault"], tip="fault"))
        self.y += 18

    def _health(self) -> None:
        y = self.y
        self.out.append(_row_label("health", y + 12))
        self.out.append(_band(LEFT, y, self.plot_w, 18, COLORS["unknown"]))
        samples = self.drill.health
        for i, sample in enumerate(samples):
            end = samples[i + 1].t_s if i + 1 < len(samples) else self.last
            color = COLORS["ok"] if sample.ok else COLORS["bad"]
            tip = "healthy" if sample.ok else "failing: " + sample.detail
            x0 = self.x(sample.t_s)
            self.out.append(_band(x0, y, max(self.x(end) - x0, 1.0), 18, color, tip=tip))
        if not samples:
            self.out.append(
                f'<text x="{LEFT + 8}" y="{y + 13}" font-size="11" fill="{COLORS["muted"]}">'
                "no health samples in this journal</text>"
            )
        self.y += 26

    def _phases(self) -> None:
        """A marker per clock phase (not the steps) and its label in lanes below."""
        y = self.y
        self.out.append(_row_label("phases", y + 10))
        ordered = sorted(
            (m for m in self.drill.timeline if m.phase not in _STEPS), key=lambda m: m.t_s
        )
        texts = [_phase_text(m) for m in ordered]
        spans = []
        for m, text in zip(ordered, texts, strict=True):
            w = _text_w(text)
            x0 = min(max(self.x(m.t_s) - w / 2, LEFT), WIDTH - RIGHT - w)
            spans.append((x0, x0 + w))
        lanes = _lanes(spans, gap=6)
        for m, text, (x0, _), lane in zip(ordered, texts, spans, lanes, strict=True):
            color = _PHASE_COLORS.get(m.phase, COLORS["muted"])
            xm, ly = self.x(m.t_s), y + 26 + lane * LANE_H
            self.out.append(
                f'<line x1="{xm:.1f}" y1="{y - 44}" x2="{xm:.1f}" y2="{ly - 9:.1f}" '
                f'stroke="{color}" stroke-width="0.8" opacity="0.45"/>'
                f'<circle cx="{xm:.1f}" cy="{y + 8}" r="5" fill="{color}"/>'
                f'<text x="{x0:.1f}" y="{ly:.1f}" font-size="11" fill="{color}">'
                f"{_label(text)}</text>"
            )
        self.y = y + 18 + (max(lanes, default=0) + 1) * LANE_H + 6

    def _notes(self) -> None:
        """Game-day notes as flags with who wrote them and the start of the text."""
        if not self.drill.notes:
            return
        y = self.y
        self.out.append(_row_label("notes", y + 11))
        notes = sorted(self.drill.notes, key=lambda n: n.t_s)
        texts = [f"{n.by}: {n.text}" if n.by else n.text for n in notes]
        texts = [t if len(t) <= 34 else t[:33] + "…" for t in texts]
        spans = []
        for n, text in zip(notes, texts, strict=True):
            x0 = min(max(self.x(n.t_s), LEFT), WIDTH - RIGHT - _text_w(text) - 10)
            spans.append((x0, x0 + _text_w(text) + 10))
        lanes = _lanes(spans, gap=6)
        for n, text, (x0, _), lane in zip(notes, texts, spans, lanes, strict=True):
            xn, ly = self.x(n.t_s), y + 11 + lane * LANE_H
            self.out.append(
                f'<path d="M{xn:.1f},{ly - 9:.1f} l5,4 l-5,4 z" fill="{COLORS["note"]}">'
                f"<title>{escape(n.by)}: {escape(n.text)}</title></path>"
                f'<text x="{x0 + 8:.1f}" y="{ly:.1f}" font-size="11" fill="{COLORS["note"]}">'
                f"{escape(text)}</text>"
            )
        self.y = y + (max(lanes, default=0) + 1) * LANE_H + 8

    def _steps(self) -> None:
        bars = step_bars(self.drill)
        if bars:
            self.out.append(_row_label("steps", self.y + 11))
        for bar in bars:
            end = bar.end_s if bar.end_s is not None else self.last
            x0 = self.x(bar.start_s)
            x1 = max(self.x(end), x0 + 2)
            color = COLORS["skipped"] if bar.skipped else COLORS["step"]
            tip = f"{bar.name} ({bar.actor or 'unfinished'})"
            self.out.append(_band(x0, self.y + 2, x1 - x0, 11, color, tip=tip))
            duration = "" if bar.end_s is None else f"  {_fmt(bar.end_s - bar.start_s)}s"
            text = bar.name + (" (skipped)" if bar.skipped else "")
            # right of the bar, else left of it; shortened to the room on the roomier side
            right, left = WIDTH - RIGHT - (x1 + 6), x0 - 6 - 4
            room = right if right >= _text_w(text + duration) or right >= left else left
            tx, anchor = (x1 + 6, "start") if room == right else (x0 - 6, "end")
            fits = max(int(room / CHAR_W) - len(duration), 8)
            text = (
                text if len(text) <= min(fits, 60) else text[: min(fits, 60) - 1] + "…"
            ) + duration
            self.out.append(
                f'<text x="{tx:.1f}" y="{self.y + 11:.1f}" font-size="11" text-anchor="{anchor}" '
                f'fill="{COLORS["text"]}">{escape(text)}</text>'
            )
            self.y += 16
        self.y += 6

    def _deadlines(self, top: float, fault_y: float) -> None:
        """Deadlines across the rows; a breached one shaded to where its measure ended."""
        for d in self.shown:
            xd = self.x(d.at_s)
            color = COLORS["breach"] if d.breached else COLORS["deadline"]
            if d.breached:
                end = self.x(d.end_s if d.end_s is not None else self.t_max)
                self.out.append(
                    f'<rect x="{xd:.1f}" y="{fault_y:.1f}" width="{max(end - xd, 2):.1f}" '
                    f'height="{self.y - fault_y:.1f}" fill="{COLORS["breach"]}" opacity="0.10"/>'
                )
            self.out.append(
                f'<line x1="{xd:.1f}" y1="{top + 2:.1f}" x2="{xd:.1f}" y2="{self.y:.1f}" '
                f'stroke="{color}" stroke-width="{2 if d.breached else 1.2}" '
                'stroke-dasharray="5,3"/>'
            )

    def _axis(self) -> None:
        """The time axis, T0 = the fault in effect."""
        y = self.y
        self.out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            f'stroke="{COLORS["muted"]}" stroke-width="1"/>'
        )
        step = nice_step(self.t_max - self.t_min)
        tick = math.ceil((self.t_min - self.t0) / step) * step
        while tick + self.t0 <= self.t_max:
            xt = self.x(tick + self.t0)
            self.out.append(
                f'<line x1="{xt:.1f}" y1="{y:.1f}" x2="{xt:.1f}" y2="{y + 4:.1f}" '
                f'stroke="{COLORS["muted"]}"/>'
                f'<text x="{xt:.1f}" y="{y + 16:.1f}" font-size="10" text-anchor="middle" '
                f'fill="{COLORS["muted"]}">{_fmt(tick)}s</text>'
            )
            tick += step
        self.out.append(
            f'<text x="{WIDTH - RIGHT}" y="{y + 30:.1f}" font-size="10" text-anchor="end" '
            f'fill="{COLORS["muted"]}">seconds from T0 (fault in effect)</text>'
        )
        self.y += 38


def _phase_text(mark: MarkView) -> str:
    label = PHASE_LABELS.get(mark.phase, mark.phase)
    if mark.phase == Phase.STAGE_DONE.value and mark.step:
        label = f"{mark.step} done"
    if mark.actor not in ("automation", "none", ""):  # a person: their name, or "human"
        label += f" ({mark.actor})"
    return label


def _row_label(text: str, y: float) -> str:
    return (
        f'<text x="{LEFT - 10}" y="{y:.1f}" font-size="11" text-anchor="end" '
        f'fill="{COLORS["muted"]}">{escape(text)}</text>'
    )


def _band(x: float, y: float, w: float, h: float, color: str, tip: str = "") -> str:
    title = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h}" fill="{color}">'
        f"{title}</rect>"
    )


def _legend(y: float) -> str:
    items = [
        ("rect", COLORS["ok"], "healthy"),
        ("rect", COLORS["bad"], "failing"),
        ("rect", COLORS["unknown"], "not sampled"),
        ("rect", COLORS["fault"], "fault injected"),
        ("rect", COLORS["step"], "runbook step"),
        ("line", COLORS["deadline"], "budget deadline"),
        ("line", COLORS["breach"], "breached deadline"),
    ]
    parts, xpos = [], float(LEFT)
    for kind, color, text in items:
        if kind == "rect":
            parts.append(
                f'<rect x="{xpos:.1f}" y="{y - 9:.1f}" width="12" height="10" fill="{color}"/>'
            )
        else:
            parts.append(
                f'<line x1="{xpos + 6:.1f}" y1="{y - 11:.1f}" x2="{xpos + 6:.1f}" y2="{y + 2:.1f}" '
                f'stroke="{color}" stroke-width="2" stroke-dasharray="4,2"/>'
            )
        parts.append(
            f'<text x="{xpos + 16:.1f}" y="{y:.1f}" font-size="10" fill="{COLORS["muted"]}">'
            f"{escape(text)}</text>"
        )
        xpos += 16 + _text_w(text) * 0.95 + 14
    return "".join(parts)

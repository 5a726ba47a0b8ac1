"""The trends page: MTTD and MTTR per drill across runs (SVG), and the regressions table."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from html import escape

from drillbook.reporting._history import RunRecord
from drillbook.reporting._trends import MEASURES, Point, Regression, TrendPolicy, series
from drillbook.reporting.html._page import svg_data_uri
from drillbook.reporting.html._style import CSS, IMAGE_CHECK_JS
from drillbook.reporting.html._svg import COLORS, FONT, nice_step

__all__ = ["render_trends", "trend_svg"]

_LINE = {"mttd": "#7b4bb7", "mttr": COLORS["step"]}
W, H, LEFT, RIGHT, TOP, BOTTOM = 1000, 210, 64, 24, 30, 42


def _value(point: Point, measure: str) -> float | None:
    return point.record.mttd_s if measure == "mttd" else point.record.mttr_s


def trend_svg(
    drill: str, points: Sequence[Point], regressions: Sequence[Regression], policy: TrendPolicy
) -> str:
    """One drill's MTTD and MTTR by run, the latest run's baseline band, failures marked."""
    values = [v for p in points for m in MEASURES if (v := _value(p, m)) is not None]
    top = max([*values, 1.0]) * 1.15
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    flagged = {r.measure for r in regressions}
    out = [
        f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold" fill="{COLORS["text"]}">'
        f"{escape(drill)}</text>"
    ]
    step = nice_step(top * 8 / 5)  # about five grid lines
    tick = 0.0
    while tick <= top:
        out.append(
            f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{W - RIGHT}" y2="{y(tick):.1f}" '
            f'stroke="{COLORS["grid"]}"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'font-size="10" text-anchor="end" fill="{COLORS["muted"]}">{tick:.1f}s</text>'
        )
        tick += step
    # the latest run's baseline: median of the previous runs and the regression threshold
    for measure in MEASURES:
        before = [v for p in points[:-1][-policy.last :] if (v := _value(p, measure)) is not None]
        if len(before) < policy.min_runs or n < 2:
            continue
        median = statistics.median(before)
        limit = max(median * (1 + policy.threshold), median + policy.min_delta_s)
        x0 = x(max(0, n - 1 - policy.last))
        out.append(
            f'<rect x="{x0:.1f}" y="{y(limit):.1f}" width="{x(n - 1) - x0:.1f}" '
            f'height="{y(median) - y(limit):.1f}" fill="{_LINE[measure]}" opacity="0.08"/>'
            f'<line x1="{x0:.1f}" y1="{y(median):.1f}" x2="{x(n - 1):.1f}" y2="{y(median):.1f}" '
            f'stroke="{_LINE[measure]}" stroke-dasharray="4,3" opacity="0.7"/>'
        )
    for measure, color in _LINE.items():
        pts = [(i, v) for i, p in enumerate(points) if (v := _value(p, measure)) is not None]
        if len(pts) > 1:
            path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for i, v in pts:
            bad = i == n - 1 and measure in flagged
            out.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{6 if bad else 3.5}" '
                f'fill="{COLORS["breach"] if bad else color}">'
                f"<title>{escape(points[i].run_id)}: {measure} {v:.2f}s</title></circle>"
            )
    for i, p in enumerate(points):
        if p.record.outcome != "passed":
            out.append(
                f'<text x="{x(i):.1f}" y="{TOP + plot_h + 14}" font-size="12" text-anchor="middle"'
                f' fill="{COLORS["bad"]}" font-weight="bold">✕</text>'
            )
    # date labels about 80 px apart, the latest run's always among them
    every = max(1, math.ceil(n * 80 / plot_w))
    shown = list(range(n - 1, -1, -every))[::-1]
    for i in shown:
        label = (points[i].started or points[i].run_id)[5:16].replace("T", " ")
        lx = min(max(x(i), LEFT + 34), W - RIGHT - 34)
        out.append(
            f'<text x="{lx:.1f}" y="{H - 10}" font-size="10" text-anchor="middle" '
            f'fill="{COLORS["muted"]}">{escape(label)}</text>'
        )
    legend = (
        f'<circle cx="{W - 330}" cy="14" r="4" fill="{_LINE["mttd"]}"/>'
        f'<text x="{W - 322}" y="18" font-size="11" fill="{COLORS["muted"]}">time to detect</text>'
        f'<circle cx="{W - 222}" cy="14" r="4" fill="{_LINE["mttr"]}"/>'
        f'<text x="{W - 214}" y="18" font-size="11" fill="{COLORS["muted"]}">time to recover</text>'
        f'<text x="{W - 110}" y="18" font-size="11" fill="{COLORS["bad"]}">✕ not passed</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        f'font-family="{FONT}"><rect width="{W}" height="{H}" fill="#fff"/>'
        + "".join(out)
        + legend
        + "</svg>\n"
    )


def render_trends(
    history: Sequence[RunRecord], regressions: Sequence[Regression], policy: TrendPolicy
) -> str:
    by_drill = series(history)
    rows = "".join(
        f'<tr class="regression" data-drill="{escape(r.drill)}" data-measure="{r.measure}">'
        f"<td class=nowrap>{escape(r.drill)}</td><td>{escape(r.measure)}</td>"
        f"<td>{escape(r.describe())}</td>"
        "</tr>"
        for r in regressions
    )
    table = (
        '<table class="grid"><thead><tr><th>drill</th><th>measure</th><th>regression</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
        if regressions
        else '<p class="value ok">No regressions.</p>'
    )
    charts = "".join(
        f'<img class="trend" alt="trend of {escape(drill)}" src="'
        + svg_data_uri(
            trend_svg(drill, points, [r for r in regressions if r.drill == drill], policy)
        )
        + '">'
        for drill, points in sorted(by_drill.items())
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>drillbook trends</title><style>{CSS}</style></head><body>"
        '<header><div class="brand">drillbook</div><h1>Trends</h1>'
        f'<div class="meta">{len(history)} run(s) · {len(by_drill)} drill(s) · a regression: '
        f"latest &gt; {1 + policy.threshold:g} x median of the previous {policy.last} run(s) "
        f"and by &ge; {policy.min_delta_s:g}s (at least {policy.min_runs} runs), or passed "
        "&rarr; not passed</div></header><main>"
        f'<section class="summary"><h2>Regressions ({len(regressions)})</h2>{table}'
        '<div class="muted">images: <span id="image-check">checking…</span></div></section>'
        f'<section class="summary"><h2>MTTD and MTTR by run</h2>{charts}</section>'
        f"</main><script>{IMAGE_CHECK_JS}</script></body></html>\n"
    )

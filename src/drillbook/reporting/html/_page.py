"""reports/<run-id>/index.html: one self-contained page per run (inline CSS, timelines as SVG
data URIs, evidence inlined), readable offline and from a CI artifact."""

from __future__ import annotations

import base64
import json
import re
import statistics
from dataclasses import dataclass
from html import escape
from pathlib import Path

from drillbook.reporting.html._gameday import GameDayView
from drillbook.reporting.html._model import DrillView, RunView, step_bars
from drillbook.reporting.html._style import CSS, IMAGE_CHECK_JS
from drillbook.reporting.html._svg import timeline_svg
from drillbook.sla import Phase

__all__ = ["Evidence", "evidence_of", "render_run", "residue_of", "svg_data_uri"]

INLINE_LIMIT = 32_000  # characters of one evidence file shown inline; the file is linked


@dataclass(frozen=True)
class Evidence:
    name: str
    size: int
    mtime: float
    text: str
    truncated: bool


def evidence_of(run_dir: Path | None) -> list[Evidence]:
    """The run's evidence files (written already redacted by the platform's save_evidence)."""
    folder = None if run_dir is None else Path(run_dir) / "evidence"
    if folder is None or not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        text = raw[: INLINE_LIMIT * 2].decode("utf-8", errors="replace")
        found.append(
            Evidence(
                path.name,
                len(raw),
                path.stat().st_mtime,
                text[:INLINE_LIMIT],
                len(text) > INLINE_LIMIT or len(raw) > INLINE_LIMIT * 2,
            )
        )
    return found


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "drill"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _pill(outcome: str) -> str:
    kind = "ok" if outcome == "passed" else "bad" if outcome in ("breached", "failed") else "warn"
    return f'<span class="pill {kind}">{escape(outcome.upper())}</span>'


def _window(drill: DrillView) -> tuple[float, float] | None:
    walls = [m.wall for m in drill.timeline if m.wall is not None]
    return (min(walls) - 1.0, max(walls) + 1.0) if walls else None


def residue_of(run_dir: Path | None) -> list[str] | None:
    """What the run's residue check found (residue.json), None when it did not run."""
    path = None if run_dir is None else Path(run_dir) / "residue.json"
    if path is None or not path.is_file():
        return None
    try:
        found = json.loads(path.read_text()).get("residue")
    except (json.JSONDecodeError, AttributeError):
        return [f"{path.name} is not readable JSON"]
    return [str(line) for line in found] if isinstance(found, list) else None


def render_run(
    run: RunView, evidence: list[Evidence] | None = None, residue: list[str] | None = None
) -> str:
    """The whole page. Every text from the journal is escaped; evidence is shown as written."""
    evidence = evidence or []
    windows = [(d, _window(d)) for d in run.drills]
    by_drill: dict[int, list[Evidence]] = {}
    unplaced = []
    for ev in evidence:
        owner = next(
            (i for i, (_, w) in enumerate(windows) if w and w[0] <= ev.mtime <= w[1]), None
        )
        if owner is None:
            unplaced.append(ev)
        else:
            by_drill.setdefault(owner, []).append(ev)
    passed = sum(d.outcome == "passed" for d in run.drills)
    verdict = run.passed if run.passed is not None else passed == len(run.drills)
    mttrs = [d.mttr_s for d in run.drills if d.mttr_s is not None]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>drillbook run {escape(run.run_id)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}</style></head>",
        f'<body data-run="{escape(run.run_id)}">',
        '<header><div class="brand">drillbook</div>',
        f"<h1>Run {escape(run.run_id)} {_pill('passed' if verdict else 'failed')}</h1>",
        f'<div class="meta">{_game_day_of(run)}profile <b>{escape(run.profile or "?")}</b> · '
        f"started {escape(run.started or '?')} · finished "
        f"{escape(run.finished or 'not finished')}</div>",
        "</header><main>",
        '<section class="cards">',
        _card("drills passed", f"{passed} / {len(run.drills)}", "ok" if verdict else "bad"),
        _card(
            "SLA breaches",
            str(sum(len(d.breaches) for d in run.drills)),
            "bad" if any(d.breaches for d in run.drills) else "ok",
        ),
        _card("median time to recover", _s(statistics.median(mttrs)) if mttrs else "-", ""),
        _card("wall time", _s(sum(d.wall_s for d in run.drills)), ""),
        _card(
            "lab residue",
            "not checked"
            if residue is None
            else f"{len(residue)} change(s)"
            if residue
            else "none",
            "" if residue is None else "bad" if residue else "ok",
        ),
        '<div class="card"><div class="label">timelines</div>'
        '<div id="image-check" class="check">checking images…</div></div>',
        "</section>",
        _gameday(run.gameday, run.drills) if run.gameday is not None else "",
        _summary(run),
    ]
    for i, drill in enumerate(run.drills):
        parts.append(_drill(drill, by_drill.get(i, [])))
    if residue:
        items = "".join(f"<li><code>{escape(line)}</code></li>" for line in residue)
        parts.append(
            '<section class="drill"><h2>Lab residue</h2><p>The drills left the lab changed '
            f"(compared with the state before the first drill):</p><ul>{items}</ul></section>"
        )
    if unplaced:
        parts.append('<section class="drill"><h2>Run evidence</h2>')
        parts.append(_evidence(unplaced))
        parts.append("</section>")
    parts += [
        "<footer>Written by drillbook from journal.json; self-contained: works offline. "
        "Evidence is redacted when captured: secret values never appear here.</footer>",
        f"</main><script>{IMAGE_CHECK_JS}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _card(label: str, value: str, kind: str) -> str:
    return (
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value {kind}">{escape(value)}</div></div>'
    )


def _game_day_of(run: RunView) -> str:
    return "" if run.gameday is None else f"game day <b>{escape(run.gameday.plan)}</b> · "


def _gameday(game: GameDayView, played: tuple[DrillView, ...]) -> str:
    """The game day: its plan, env and roles, then every scenario of the plan with its outcome,
    who acknowledged and who did the steps, or why it was left out or not played."""
    drills = {d.drill: d for d in played}
    order = game.order(list(drills))
    rows = []
    for index, name in enumerate(order, 1):
        drill = drills.get(name)
        scenario = f"<td>{escape(name)}</td>"
        if drill is not None:
            ack = drill.first(Phase.RESPONDED.value)
            steps = dict.fromkeys(
                m.actor for m in drill.timeline if m.phase == Phase.STEP_FINISHED.value
            )
            outcome, why = drill.outcome, ""
            scenario = f'<td><a href="#drill-{_slug(name)}">{escape(name)}</a></td>'
            cells = (
                f"<td>{escape(drill.alert)}</td><td>{escape(ack.actor if ack else '-')}</td>"
                f"<td>{escape(', '.join(steps) or '-')}</td>"
            )
        else:
            cells = "<td></td><td>-</td><td>-</td>"
            if name in game.left_out:
                outcome, why = "left out", game.left_out[name] or "the lab could not run it"
            else:
                outcome = "not played"
                why = f"aborted ({game.aborted}) before it" if game.aborted else ""
        rows.append(
            f'<tr data-scenario="{escape(name)}" data-outcome="{escape(outcome)}">'
            f"<td class=num>{index}</td>{scenario}{cells}<td>{_pill(outcome)}</td>"
            f"<td>{escape(why)}</td></tr>"
        )
    count = sum(name in drills for name in order)
    facts = [
        f"plan <b>{escape(game.plan)}</b>" + (f" ({escape(game.file)})" if game.file else ""),
        f"env <b>{escape(game.env or '?')}</b>",
        f"{count} of {len(order)} scenario(s) played",
    ]
    if game.left_out:
        facts.append(f"{len(game.left_out)} left out")
    if game.rehearsal:
        facts.append("rehearsal: automation played every role")
    out = [
        '<section class="drill gameday" id="gameday">',
        f"<h2>Game day {escape(game.plan)}</h2>",
        f'<div class="meta">{" · ".join(facts)}</div>',
    ]
    if game.aborted:
        out.append(
            f'<pre class="error">aborted ({escape(game.aborted)}): the fault was reverted; the '
            "scenarios after it were not played</pre>"
        )
    if game.roles:
        items = "".join(
            f"<dt>{escape(r.name)}</dt><dd>{escape(r.who)}"
            + (f' <span class="muted">{escape(r.description)}</span>' if r.description else "")
            + "</dd>"
            for r in game.roles
        )
        out.append(f'<h3>Roles</h3><dl class="roles">{items}</dl>')
    out.append(
        '<h3>Scenarios</h3><table class="grid scenarios"><thead><tr><th>#</th><th>scenario</th>'
        "<th>alert</th><th>acknowledged by</th><th>steps done by</th><th>outcome</th>"
        f"<th>why</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    out.append("</section>")
    return "\n".join(out)


def _summary(run: RunView) -> str:
    rows = "".join(
        f'<tr><td><a href="#drill-{_slug(d.drill)}">{escape(d.drill)}</a></td>'
        f"<td>{escape(d.alert)}</td><td>{_pill(d.outcome)}</td>"
        f"<td class=num>{_s(d.mttd_s)}</td><td class=num>{_s(d.mttr_s)}</td>"
        f"<td class=num>{len(d.breaches)}</td><td class=num>{_s(d.wall_s)}</td></tr>"
        for d in run.drills
    )
    return (
        '<section class="summary"><h2>Drills</h2><table class="grid">'
        "<thead><tr><th>drill</th><th>alert</th><th>outcome</th>"
        '<th title="the alert firing when the drill awaited one, else the first failing probe">'
        "time to detect</th>"
        "<th>time to recover</th><th>breaches</th><th>wall</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _drill(drill: DrillView, evidence: list[Evidence]) -> str:
    slug = _slug(drill.drill)
    out = [
        f'<section class="drill" id="drill-{slug}" data-drill="{escape(drill.drill)}" '
        f'data-outcome="{escape(drill.outcome)}">',
        f"<h2>{escape(drill.drill)} {_pill(drill.outcome)}</h2>",
        f'<div class="meta">alert <b>{escape(drill.alert)}</b> · wall {_s(drill.wall_s)} · '
        f"fault reverted: {'yes' if drill.reverted else 'NO'} · steady after: "
        f"{'yes' if drill.steady_after else 'NO'}</div>",
    ]
    if drill.error:
        out.append(f'<pre class="error">{escape(drill.error)}</pre>')
    out.append(
        f'<img class="timeline" alt="timeline of {escape(drill.drill)}" '
        f'src="{svg_data_uri(timeline_svg(drill, title=False))}">'
    )
    out.append(_sla(drill))
    out.append(_steps(drill))
    if drill.notes or drill.roles:
        out.append(_notes(drill))
    if evidence:
        out.append("<h3>Evidence and logs</h3>" + _evidence(evidence))
    out.append(_marks(drill))
    out.append("</section>")
    return "\n".join(out)


def _sla(drill: DrillView) -> str:
    rows = []
    for row in drill.sla_rows():
        observed = _s(row.observed_s)
        if row.verdict == "fail" and not row.reached:
            observed = f"never reached (waited {_s(row.observed_s)})"
        over = (
            f'<span class="over">+{row.observed_s - row.budget_s:.1f} s</span>'
            if row.verdict == "fail" and row.observed_s is not None
            else ""
        )
        rows.append(
            f'<tr data-measure="{escape(row.measure)}"><td>{escape(row.measure)}</td>'
            f"<td class=num>{escape(observed)} {over}</td><td class=num>{_s(row.budget_s)}</td>"
            f'<td class="source">{escape(row.source)}</td>'
            f'<td class="verdict {row.verdict.replace(" ", "-")}" data-verdict="{row.verdict}">'
            f"{escape(row.verdict.upper())}</td></tr>"
        )
    return (
        '<h3>SLA</h3><table class="grid sla"><thead><tr><th>measure</th><th>observed</th>'
        "<th>budget</th><th>budget from</th><th>verdict</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _t0(drill: DrillView) -> float:
    active = drill.first(Phase.ACTIVE.value)
    return active.t_s if active else 0.0


def _steps(drill: DrillView) -> str:
    bars = step_bars(drill)
    if not bars:
        return '<h3>Runbook steps</h3><p class="muted">no runbook steps ran</p>'
    t0 = _t0(drill)
    started = {m.step: m for m in drill.timeline if m.phase == Phase.STEP_STARTED.value}
    finished = {m.step: m for m in drill.timeline if m.phase == Phase.STEP_FINISHED.value}
    rows = []
    for bar in bars:
        cite = started[bar.name].detail if bar.name in started else ""
        done = finished.get(bar.name)
        duration = "not finished" if bar.end_s is None else _s(bar.end_s - bar.start_s)
        rows.append(
            f"<tr><td>{escape(bar.name)}</td><td class=num>T{bar.start_s - t0:+.1f} s</td>"
            f"<td class=num>{escape(duration)}</td><td>{escape(bar.actor or '-')}</td>"
            f'<td class="source">{escape(cite)}</td>'
            f"<td>{escape(done.detail if done else '')}</td></tr>"
        )
    return (
        '<h3>Runbook steps</h3><table class="grid"><thead><tr><th>step</th><th>start</th>'
        "<th>duration</th><th>actor</th><th>runbook</th><th>result</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _notes(drill: DrillView) -> str:
    t0 = _t0(drill)
    out = ["<h3>Game-day notes</h3>"]
    if drill.roles:
        items = "".join(
            f"<dt>{escape(role)}</dt><dd>{escape(who)}</dd>" for role, who in drill.roles.items()
        )
        out.append(f'<dl class="roles">{items}</dl>')
    if drill.notes:
        rows = "".join(
            f"<tr><td class=num>T{n.t_s - t0:+.1f} s</td><td>{escape(n.by)}</td>"
            f"<td>{escape(n.text)}</td></tr>"
            for n in sorted(drill.notes, key=lambda n: n.t_s)
        )
        out.append(
            '<table class="grid notes"><thead><tr><th>when</th><th>by</th><th>note</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>"
        )
    return "".join(out)


def _evidence(files: list[Evidence]) -> str:
    items = []
    for ev in files:
        more = " (truncated here; the file has all of it)" if ev.truncated else ""
        items.append(
            f'<details class="evidence"><summary><a href="evidence/{escape(ev.name)}">'
            f"{escape(ev.name)}</a> <span class=muted>{ev.size:,} bytes{more}</span></summary>"
            f"<pre>{escape(ev.text)}</pre></details>"
        )
    return "".join(items)


def _marks(drill: DrillView) -> str:
    t0 = _t0(drill)
    rows = "".join(
        f"<tr><td class=num>T{m.t_s - t0:+.2f} s</td><td>{escape(m.phase)}</td>"
        f"<td>{escape(m.step or '')}</td><td>{escape(m.actor)}</td>"
        f"<td>{escape(m.detail)}</td></tr>"
        for m in drill.timeline
    )
    health = "".join(
        f"<tr><td class=num>T{h.t_s - t0:+.2f} s</td><td>{'healthy' if h.ok else 'failing'}</td>"
        f"<td>{escape(h.detail)}</td></tr>"
        for h in drill.health
    )
    return (
        "<details><summary>Incident clock (every mark) and health transitions</summary>"
        '<table class="grid small"><thead><tr><th>when</th><th>phase</th><th>step</th>'
        f"<th>actor</th><th>detail</th></tr></thead><tbody>{rows}</tbody></table>"
        '<table class="grid small"><thead><tr><th>when</th><th>health</th><th>detail</th></tr>'
        f"</thead><tbody>{health}</tbody></table></details>"
    )

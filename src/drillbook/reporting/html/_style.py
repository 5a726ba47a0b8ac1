"""The report pages' inline CSS and the image check (the page proves its timelines loaded)."""

from __future__ import annotations

__all__ = ["CSS", "IMAGE_CHECK_JS"]

CSS = """
:root { --ok:#2f9e60; --bad:#d64541; --warn:#c98a00; --ink:#1f2933; --muted:#616e7c;
        --line:#e4e7eb; --bg:#f5f7fa; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
header { background:#1f2933; color:#fff; padding:18px 32px 16px; }
header h1 { margin:2px 0 4px; font-size:22px; font-weight:600; }
header .meta { color:#cbd2d9; }
.brand { font-size:12px; letter-spacing:.12em; text-transform:uppercase; color:#9aa5b1; }
main { max-width:1080px; margin:0 auto; padding:20px 24px 40px; }
h2 { font-size:18px; margin:0 0 6px; } h3 { font-size:14px; margin:18px 0 6px; color:#3e4c59; }
.cards { display:flex; gap:12px; flex-wrap:wrap; margin-bottom:16px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 16px;
        min-width:150px; }
.card .label { font-size:11px; text-transform:uppercase; letter-spacing:.06em; color:var(--muted); }
.card .value { font-size:22px; font-weight:600; }
.value.ok, .check.ok { color:var(--ok); } .value.bad, .check.bad { color:var(--bad); }
.check { font-weight:600; padding-top:6px; }
section.summary, section.drill { background:#fff; border:1px solid var(--line);
        border-radius:8px; padding:16px 20px; margin-bottom:18px; }
.meta { color:var(--muted); margin-bottom:10px; }
.pill { display:inline-block; font-size:11px; font-weight:700; letter-spacing:.05em;
        padding:2px 9px; border-radius:10px; vertical-align:middle; color:#fff; }
.pill.ok { background:var(--ok); } .pill.bad { background:var(--bad); }
.pill.warn { background:var(--warn); }
table.grid { border-collapse:collapse; width:100%; margin:4px 0 8px; }
table.grid th { text-align:left; font-size:11px; text-transform:uppercase; letter-spacing:.05em;
        color:var(--muted); border-bottom:2px solid var(--line); padding:6px 8px; }
table.grid td { border-bottom:1px solid var(--line); padding:6px 8px; vertical-align:top; }
table.small td { font-size:12px; padding:3px 8px; }
td.num, td.nowrap { white-space:nowrap; font-variant-numeric:tabular-nums; }
td.source { color:var(--muted); font-size:12px; max-width:420px; }
td.verdict { font-weight:700; text-align:center; border-radius:4px; width:90px; }
td.verdict.pass { color:var(--ok); background:#e8f6ee; }
td.verdict.fail { color:#fff; background:var(--bad); }
td.verdict.not-reached { color:var(--muted); background:#f0f2f5; }
.over { color:var(--bad); font-weight:600; }
img.timeline, img.trend { width:100%; height:auto; border:1px solid var(--line); border-radius:6px;
        margin:6px 0; }
pre { background:#f0f2f5; padding:10px; border-radius:6px; overflow:auto; font-size:12px;
      max-height:360px; white-space:pre-wrap; word-break:break-word; }
pre.error { background:#fdecea; color:#8a1c12; border-left:4px solid var(--bad); }
details { margin:8px 0; } summary { cursor:pointer; color:#3e4c59; }
dl.roles { display:grid; grid-template-columns:max-content 1fr; gap:2px 14px; }
dl.roles dt { color:var(--muted); } dl.roles dd { margin:0; font-weight:600; }
.muted { color:var(--muted); }
footer { color:var(--muted); font-size:12px; margin-top:24px; }
"""

# Run on load: counts the timeline images that decoded, into the page (the headless test reads
# body[data-images-loaded] from the dumped DOM) and the visible "timelines" card.
IMAGE_CHECK_JS = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img.timeline, img.trend'), ok = 0;
  imgs.forEach(function (i) { if (i.complete && i.naturalWidth > 0) { ok++; } });
  var all = ok === imgs.length, el = document.getElementById('image-check');
  if (el) {
    el.textContent = ok + ' / ' + imgs.length + ' loaded';
    el.className = 'check ' + (all ? 'ok' : 'bad');
  }
  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);
  document.body.setAttribute('data-images-ok', all ? 'true' : 'false');
});
"""

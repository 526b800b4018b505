"""The catalog's HTML: the list of views and one page per view (plain HTML, inline CSS).

Everything that comes from data or definitions goes through :func:`html.escape`; the
charts are inline SVG from :mod:`feature_jobs.serving.svg_charts`; nothing is fetched
from anywhere when a page is shown (no script, no font, no stylesheet link).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from feature_jobs.definitions.types import format_duration
from feature_jobs.serving import catalog_series
from feature_jobs.serving.svg_charts import (
    Format,
    bar_chart,
    line_chart,
    number,
    percent,
    sparkline,
)
from feature_jobs.validation.check_config import batch_settings

if TYPE_CHECKING:
    from feature_jobs.serving.catalog import ViewCard

DASH = '<span class="muted">-</span>'
#: Checks that tripped shown per view page, newest first.
FINDINGS_SHOWN = 30

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;
margin:0;background:#fafafa}
header{background:#20303f;color:#fff;padding:12px 24px}header a{color:#cfe3ff}
main{padding:16px 24px;max-width:1400px}
h1{font-size:20px;margin:0}h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;background:#fff;margin:4px 0 12px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.fresh{background:#dff3e4;color:#17612e}.stale,.unavailable{background:#fde2e1;color:#8e1b17}
.ahead,.unpublished{background:#fff1cc;color:#6b4b00}.quarantined{background:#fde2e1;color:#8e1b17}
.muted{color:#666}.charts{display:flex;flex-wrap:wrap;gap:12px}
figure.chart{background:#fff;border:1px solid #ddd;margin:0;padding:8px}
figure.chart figcaption{font-weight:600;margin-bottom:4px}
ul.legend{list-style:none;padding:0;margin:4px 0 0;display:flex;flex-wrap:wrap;gap:4px 14px;
font-size:12px;max-width:640px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 16px;background:#fff;
border:1px solid #ddd;padding:8px 12px;margin:0}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
code{font-size:13px}
"""


def index_page(cards: Sequence[ViewCard], started: float) -> str:
    """The list of every view with its facts, what is live online and a row-count trend."""
    rows = []
    for card in cards:
        view, runs = card.view, card.runs
        link = f"/catalog/{quote(view.name)}"
        trend = sparkline([float(r.rows) for r in runs], flagged=[r.quarantined for r in runs])
        rows.append(
            _row(
                f'<a href="{escape(link)}">{escape(view.name)}</a>',
                escape(view.description) or DASH,
                escape(view.owner),
                f"<code>{escape(view.version)}</code>",
                escape(view.cadence),
                escape(format_duration(view.max_age_delta)),
                _last_materialized(card),
                _online_cell(card, why=False),
                _freshness(card),
                f"{trend}<br>{len(runs)} snapshot(s)",
                _quarantine_count(card),
            )
        )
    head = _row("view", "description", "owner", "version", "cadence", "max age",
                "last materialized", "online (feature_ts / published at)", "freshness",
                "rows per snapshot", "quarantined", cell="th")  # fmt: skip
    body = f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
    problems = sorted({c.online_problem for c in cards if c.online_problem is not None})
    if problems:
        banner = "; ".join(escape(p) for p in problems)
        body = f'<p><span class="badge unavailable">online: unavailable</span> {banner}</p>{body}'
    now = cards[0].now if cards else None
    return _page("Feature catalog", "", body, now, started)


def view_page(card: ViewCard, started: float) -> str:
    """One view: its facts, the charts of its snapshots, features and quarantined days."""
    view, runs = card.view, card.runs
    quarantined = [r.feature_ts for r in card.quarantined]
    checks = batch_settings(view)
    psi_limit = checks["psi"].threshold if "psi" in checks else None
    shift_limit = checks["mean_shift_pct"].threshold if "mean_shift_pct" in checks else None
    charts = "".join(
        [
            bar_chart("Rows per snapshot", catalog_series.row_bars(runs)),
            line_chart("Null rate per feature", catalog_series.null_rates(view, runs),
                       flagged=quarantined, fmt=percent),
            line_chart("Drift: PSI as the gate recorded it (snapshots that passed)",
                       catalog_series.psi(view, runs), flagged=quarantined, threshold=psi_limit),
            line_chart("Drift: mean shift % against the previous snapshot that passed",
                       catalog_series.mean_shift_pct(view, runs), flagged=quarantined,
                       threshold=shift_limit),
        ]
    )  # fmt: skip
    body = (
        f"{_facts(card)}<h2>Snapshots as the validation gate saw them</h2>"
        f'<div class="charts">{charts}</div>'
        f"<h2>Features</h2>{_features_note(card)}{_features(card)}"
        f"<h2>Quarantined snapshots ({len(card.quarantined)})</h2>{_quarantine(card)}"
        f"<h2>Checks that tripped</h2>{_findings(card)}"
    )
    back = '<a href="/catalog">&larr; all feature views</a>'
    return _page(f"Feature view {view.name}", back, body, card.now, started)


def _facts(card: ViewCard) -> str:
    view, offline, live = card.view, card.offline, card.live
    facts: list[tuple[str, str]] = [
        ("description", escape(view.description) or "-"),
        ("owner", escape(view.owner)),
        ("entity", f"{escape(view.entity.name)} ({escape(', '.join(view.keys))})"),
        ("source", escape(view.source.name)),
        ("definition version", f"<code>{escape(view.version)}</code>"),
        ("cadence", escape(view.cadence)),
        ("max age / on stale", escape(f"{format_duration(view.max_age_delta)} / {view.on_stale}")),
        ("tags", escape(", ".join(f"{k}={v}" for k, v in sorted(view.tags.items()))) or "-"),
        ("last materialized", _last_materialized(card)),
    ]
    if offline is not None:
        rows = "?" if offline.rows is None else f"{offline.rows:,}"
        facts.append(("offline table", escape(
            f"Delta version {offline.version}, committed {_time(offline.committed_at)}, "
            f"{offline.snapshot_dates} snapshot date(s), {rows} rows"
        )))  # fmt: skip
    facts.append(("online", _online_cell(card)))
    if live is not None:
        meta = live.meta
        facts.append(("online snapshot", escape(
            f"{meta.rows:,} rows of {meta.snapshot_date}, from Delta version "
            f"{meta.delta_version}, definition version {meta.definition_version}"
        )))  # fmt: skip
    facts.append(("freshness", _freshness(card)))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return f'<dl class="facts">{items}</dl>'


def _features(card: ViewCard) -> str:
    view = card.view
    passed = [run for run in card.runs if not run.quarantined]
    last = passed[-1] if passed else None
    head = _row("feature", "function", "column", "window", "type", "default",
                "null rate", "mean", "PSI", cell="th")  # fmt: skip
    rows = []
    for f in view.features:
        stats = last.columns.get(f.name) if last is not None else None
        rows.append(
            _row(
                escape(f.name),
                escape(f.function),
                escape(f.column or "") or DASH,
                escape(format_duration(f.window_delta)),
                escape(view.output_type(f.name)),
                escape(repr(f.default)) if f.default is not None else DASH,
                _num(None if stats is None else stats.null_rate, percent),
                _num(None if stats is None else stats.mean, number),
                _num(None if stats is None else stats.psi, number),
            )
        )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _features_note(card: ViewCard) -> str:
    passed = [run for run in card.runs if not run.quarantined]
    if not passed:
        return ""
    day = escape(str(passed[-1].snapshot_date))
    return f'<p class="muted">null rate, mean and PSI of the last snapshot that passed, {day}</p>'


def _quarantine(card: ViewCard) -> str:
    if not card.quarantined:
        return '<p class="muted">none: every snapshot the gate judged passed</p>'
    blocking: dict[str, list[str]] = {}
    for finding in card.findings:
        if finding.blocking:
            blocking.setdefault(finding.gate_id, []).append(finding.message)
    head = _row("snapshot date", "feature_ts", "rows", "judged at", "gate run",
                "why it was refused", cell="th")  # fmt: skip
    rows = [
        _row(
            f'<span class="badge quarantined">{escape(str(run.snapshot_date))}</span>',
            escape(_time(run.feature_ts)),
            f"{run.rows:,}",
            escape(_time(run.profiled_at)),
            f"<code>{escape(run.gate_id)}</code>",
            "<br>".join(escape(m) for m in blocking.get(run.gate_id, [])) or "-",
            css="quarantined-day",
        )
        for run in reversed(card.quarantined)
    ]
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _findings(card: ViewCard) -> str:
    if not card.findings:
        return '<p class="muted">none</p>'
    shown = list(reversed(card.findings))[:FINDINGS_SHOWN]
    head = _row("snapshot date", "check", "column", "effect", "message", cell="th")
    rows = [
        _row(
            escape(str(f.snapshot_date)),
            escape(f.check),
            escape(f.column or "-"),
            '<span class="badge quarantined">blocked</span>' if f.blocking else "warning",
            escape(f.message),
        )
        for f in shown
    ]
    more = len(card.findings) - len(shown)
    note = f'<p class="muted">and {more} older</p>' if more > 0 else ""
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>{note}"


def _last_materialized(card: ViewCard) -> str:
    if card.offline_problem is not None:
        return f'<span class="muted">unavailable: {escape(card.offline_problem)}</span>'
    if card.offline is None or card.offline.last_snapshot_date is None:
        return '<span class="muted">never</span>'
    return escape(str(card.offline.last_snapshot_date))


def _online_cell(card: ViewCard, *, why: bool = True) -> str:
    if card.online_problem is not None:
        reason = f' <span class="muted">{escape(card.online_problem)}</span>' if why else ""
        return f'<span class="badge unavailable">online: unavailable</span>{reason}'

    if card.live is None:
        return '<span class="muted">not published</span>'
    return escape(f"{_time(card.live.meta.feature_ts)} / published {_time(card.live.live_at)}")


def _freshness(card: ViewCard) -> str:
    fresh = card.freshness
    max_age = format_duration(card.view.max_age_delta)
    text = {
        "fresh": f"fresh: {_age(fresh.age)} old, max age {max_age}",
        "stale": f"stale: {_age(fresh.age)} old, max age {max_age}",
        "ahead": "not served yet: its feature_ts is after now",
        "unpublished": "nothing published",
        "unavailable": "unknown: online unavailable",
    }[fresh.state]
    return f'<span class="badge {fresh.state}">{escape(text)}</span>'


def _quarantine_count(card: ViewCard) -> str:
    count = len(card.quarantined)
    if not count:
        return "0"
    days = ", ".join(str(r.snapshot_date) for r in card.quarantined[-3:])
    return f'<span class="badge quarantined">{count}</span> {escape(days)}'


def _page(title: str, nav: str, body: str, now: datetime | None, started: float) -> str:
    took = (time.perf_counter() - started) * 1000
    clock = f"as of {_time(now)}, " if now is not None else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - skewless</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1>{nav}</header><main>{body}"
        f'<p class="muted" id="rendered">{escape(clock)}rendered in '
        f'<span id="render-ms">{took:.0f}</span> ms</p></main></body></html>'
    )


def _row(*cells: str, cell: str = "td", css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<tr{attribute}>" + "".join(f"<{cell}>{c}</{cell}>" for c in cells) + "</tr>"


def _num(value: float | None, fmt: Format) -> str:
    return DASH if value is None else escape(fmt(value))


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _age(age: timedelta | None) -> str:
    if age is None:
        return "?"
    hours = int(age.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h {age.seconds // 60 % 60}m"

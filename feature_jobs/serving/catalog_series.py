"""The catalog's charts as numbers: row counts, null rates and drift over a view's snapshots.

Every series comes from the gate's own record of each snapshot (its latest run), so the
catalog shows what the gate judged: row counts and null rates of every snapshot, the
quarantined ones included; drift of the snapshots that passed (a refused batch's
drift, often orders of magnitude, would flatten the rest; its checks are listed on the
page instead). PSI is the value the gate recorded (none while a snapshot had no baseline
to compare with). The mean shift is
day over day: each snapshot's mean against the previous snapshot of the same definition
version that passed (the gate's own check compares with its pooled baseline; its
findings are listed under the charts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feature_jobs.definitions import FeatureView
from feature_jobs.offline.catalog_reads import GateRun
from feature_jobs.serving.svg_charts import Bar, Series
from feature_jobs.validation.contract import NUMERIC


def numeric_features(view: FeatureView) -> list[str]:
    """The features the gate profiles for drift (mean, percentiles, PSI)."""
    return [f.name for f in view.features if view.output_type(f.name) in NUMERIC]


def row_bars(runs: Sequence[GateRun]) -> list[Bar]:
    """Rows per snapshot; quarantined snapshots flagged."""
    return [
        Bar(run.feature_ts, float(run.rows), run.quarantined, "quarantined" * run.quarantined)
        for run in runs
    ]


def null_rates(view: FeatureView, runs: Sequence[GateRun]) -> list[Series]:
    """The null fraction of every feature per snapshot."""
    return [
        Series(
            f.name,
            [(r.feature_ts, r.columns[f.name].null_rate) for r in runs if f.name in r.columns],
        )
        for f in view.features
    ]


def psi(view: FeatureView, runs: Sequence[GateRun]) -> list[Series]:
    """The PSI the gate recorded per numeric feature for the snapshots that passed (gaps
    where it had no baseline)."""
    return [
        Series(name, [(r.feature_ts, r.columns[name].psi) for r in _passed(runs, name)])
        for name in numeric_features(view)
    ]


def mean_shift_pct(view: FeatureView, runs: Sequence[GateRun]) -> list[Series]:
    """How far each numeric feature's mean moved, in % of the previous passed snapshot's."""
    series = []
    for name in numeric_features(view):
        points: list[tuple[datetime, float | None]] = []
        for index, run in enumerate(runs):
            stats = run.columns.get(name)
            if stats is None or run.quarantined:
                continue
            before = _previous_passed(runs[:index], run)
            then = before.columns.get(name) if before is not None else None
            moved = None
            if stats.mean is not None and then is not None and then.mean is not None:
                moved = 100.0 * abs(stats.mean - then.mean) / max(abs(then.mean), 1e-12)
            points.append((run.feature_ts, moved))
        series.append(Series(name, points))
    return series


def _passed(runs: Sequence[GateRun], column: str) -> list[GateRun]:
    return [r for r in runs if not r.quarantined and column in r.columns]


def _previous_passed(earlier: Sequence[GateRun], run: GateRun) -> GateRun | None:
    """The newest earlier run of ``run``'s definition version that passed."""
    for candidate in reversed(earlier):
        if not candidate.quarantined and candidate.definition_version == run.definition_version:
            return candidate
    return None

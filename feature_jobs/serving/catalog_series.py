"""The catalog's charts as numbers: row counts, null rates and drift over a view's snapshots.

Every series comes from the gate's own record of each snapshot (its latest run), so the
catalog shows what the gate judged, quarantined snapshots included. The mean shift is
recomputed the way the gate's ``mean_shift_pct`` check computes it: against the previous
snapshot of the same definition version that passed, within the baseline lookback.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feature_jobs.definitions import FeatureView
from feature_jobs.offline.catalog_reads import GateRun
from feature_jobs.serving.svg_charts import Bar, Series
from feature_jobs.validation.contract import NUMERIC
from feature_jobs.validation.profile import BASELINE_LOOKBACK


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
    """The PSI the gate recorded per numeric feature (gaps where it had no baseline)."""
    return [
        Series(name, [(r.feature_ts, r.columns[name].psi) for r in runs if name in r.columns])
        for name in numeric_features(view)
    ]


def mean_shift_pct(view: FeatureView, runs: Sequence[GateRun]) -> list[Series]:
    """How far each numeric feature's mean moved, in % of its baseline's mean."""
    series = []
    for name in numeric_features(view):
        points: list[tuple[datetime, float | None]] = []
        for index, run in enumerate(runs):
            stats = run.columns.get(name)
            if stats is None:
                continue
            before = _baseline(runs[:index], run)
            then = before.columns.get(name) if before is not None else None
            moved = None
            if stats.mean is not None and then is not None and then.mean is not None:
                moved = 100.0 * abs(stats.mean - then.mean) / max(abs(then.mean), 1e-12)
            points.append((run.feature_ts, moved))
        series.append(Series(name, points))
    return series


def _baseline(earlier: Sequence[GateRun], run: GateRun) -> GateRun | None:
    """The gate's baseline of ``run``: the newest earlier passed run of its version."""
    since = run.feature_ts - BASELINE_LOOKBACK
    for candidate in reversed(earlier):
        if candidate.feature_ts < since:
            return None
        if not candidate.quarantined and candidate.definition_version == run.definition_version:
            return candidate
    return None

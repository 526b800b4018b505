"""Batch profiles: each gate run records its batch's profile, the next one's baseline.

The baseline of a snapshot is the latest earlier snapshot of the same view and definition
version that passed. The rows live in the offline store's profile table
(:mod:`feature_jobs.offline.profiles`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.offline.profiles import ProfileRow, append_profiles, passed_profiles
from feature_jobs.settings import Settings
from feature_jobs.validation.scan import ColumnProfile, Scan

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: How far back the previous validated snapshot may be; older ones are no baseline.
BASELINE_LOOKBACK = timedelta(days=62)
#: Stands for the row count in the column list of an empty batch (no column to hang it on).
ROWS_ONLY = "__rows__"


@dataclass(frozen=True)
class Baseline:
    """The previous validated snapshot's profile."""

    feature_ts: datetime
    rows: int
    profiles: dict[str, ColumnProfile]


@dataclass(frozen=True)
class ProfileKey:
    """Which batch a profile describes."""

    view: str
    feature_ts: datetime
    snapshot_date: date
    run_id: str
    gate_id: str
    definition_version: str


def read_baseline(
    spark: SparkSession,
    settings: Settings,
    view: str,
    definition_version: str,
    feature_ts: datetime,
) -> Baseline | None:
    """The latest passed profile of ``view`` strictly before ``feature_ts``, if any."""
    candidates = passed_profiles(
        spark, settings, view, definition_version, feature_ts - BASELINE_LOOKBACK, feature_ts
    )
    if not candidates:
        return None
    # Few rows (columns x snapshots over the lookback): picking the newest here is instant.
    newest = max((r.feature_ts, r.profiled_at, r.gate_id) for r in candidates)
    rows = [r for r in candidates if (r.feature_ts, r.profiled_at, r.gate_id) == newest]
    profiles = {
        r.column: ColumnProfile(
            column=r.column,
            numeric=r.mean is not None or r.percentiles is not None,
            null_count=int(r.null_count),
            mean=r.mean,
            min=r.min,
            max=r.max,
            percentiles=tuple(r.percentiles) if r.percentiles is not None else None,
        )
        for r in rows
        if r.column != ROWS_ONLY
    }
    return Baseline(feature_ts=rows[0].feature_ts, rows=int(rows[0].row_count),
                    profiles=profiles)  # fmt: skip


def write_profile(
    spark: SparkSession,
    settings: Settings,
    key: ProfileKey,
    scan: Scan,
    status: str,
    psi: dict[str, float],
    profiled_at: datetime,
) -> None:
    """Append the profile of one batch (one Delta commit)."""
    profiles = list(scan.profiles.values()) or [ColumnProfile(ROWS_ONLY, False, 0)]
    rows = [
        ProfileRow(
            view=key.view,
            feature_ts=key.feature_ts,
            snapshot_date=key.snapshot_date,
            run_id=key.run_id,
            gate_id=key.gate_id,
            definition_version=key.definition_version,
            status=status,
            column=p.column,
            row_count=scan.rows,
            null_count=p.null_count,
            null_rate=p.null_rate(scan.rows),
            mean=p.mean,
            min=p.min,
            max=p.max,
            percentiles=list(p.percentiles) if p.percentiles is not None else None,
            psi=psi.get(p.column),
            profiled_at=profiled_at,
        )
        for p in profiles
    ]
    append_profiles(spark, settings, rows)

"""Batch profiles: each gate run records its batch's profile, the next one's baseline.

The baseline of a snapshot is the latest earlier snapshot of the same view and definition
version that passed. The rows live in the offline store's profile table
(:mod:`feature_jobs.offline.profiles`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.offline.profiles import ProfileRow, passed_profiles
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


class BaselineChain:
    """The baseline of each snapshot of a range, judged in time order.

    A snapshot's baseline is the newest profile that passed among those stored before the
    range began (one read, :func:`read_baselines`) and the range's own snapshots that
    passed before it (:meth:`passed`), within :data:`BASELINE_LOOKBACK`: what a day by
    day run would find, since each day's profile is recorded before the next one runs.
    """

    def __init__(self, stored: list[ProfileRow]) -> None:
        self._candidates: list[tuple[tuple[datetime, int, datetime, str], Baseline]] = []
        by_batch: dict[tuple[datetime, datetime, str], list[ProfileRow]] = {}
        for row in stored:
            key = (_aware(row.feature_ts), _aware(row.profiled_at), row.gate_id)
            by_batch.setdefault(key, []).append(row)
        for (feature_ts, profiled_at, gate_id), rows in by_batch.items():
            self._candidates.append(((feature_ts, 0, profiled_at, gate_id), _baseline(rows)))

    def before(self, feature_ts: datetime) -> Baseline | None:
        """The baseline of the snapshot at ``feature_ts``, if any."""
        since = feature_ts - BASELINE_LOOKBACK
        eligible = [c for c in self._candidates if since <= c[0][0] < feature_ts]
        return max(eligible, key=lambda c: c[0])[1] if eligible else None

    def passed(self, feature_ts: datetime, scan: Scan) -> None:
        """Record that the range's snapshot at ``feature_ts`` passed (ranks above stored)."""
        order = (feature_ts, 1, feature_ts, "")
        self._candidates.append((order, Baseline(feature_ts, scan.rows, dict(scan.profiles))))


def read_baselines(
    spark: SparkSession,
    settings: Settings,
    view: str,
    definition_version: str,
    times: Sequence[datetime],
) -> BaselineChain:
    """The passed profiles the snapshots at ``times`` can compare with (one small read)."""
    first, last = min(times), max(times)
    stored = passed_profiles(
        spark, settings, view, definition_version, first - BASELINE_LOOKBACK, last
    )
    return BaselineChain(stored)


def _baseline(rows: list[ProfileRow]) -> Baseline:
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
    return Baseline(_aware(rows[0].feature_ts), int(rows[0].row_count), profiles)


def _aware(moment: datetime) -> datetime:
    """A timestamp collected from Spark (naive, in the process's local time) in UTC."""
    if moment.tzinfo is None:
        return datetime.fromtimestamp(moment.timestamp(), UTC)
    return moment.astimezone(UTC)


def profile_rows(
    key: ProfileKey,
    scan: Scan,
    status: str,
    psi: dict[str, float],
    profiled_at: datetime,
) -> list[ProfileRow]:
    """The profile table's rows for one batch (appended with :func:`append_profiles`)."""
    profiles = list(scan.profiles.values()) or [ColumnProfile(ROWS_ONLY, False, 0)]
    return [
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

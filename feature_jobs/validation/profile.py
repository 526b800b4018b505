"""Batch profiles: each gate run records its batch's profile, the next one's baseline.

The baseline of a snapshot pools the snapshots of the same view and definition version
that passed with full windows (:mod:`.warmup`) in the week ending with the latest such
snapshot before it. The rows live in the offline store's profile table
(:mod:`feature_jobs.offline.profiles`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
#: A baseline pools the snapshots of one week, the cycle of most activity (weekdays and
#: weekends), so a day is compared with an ordinary week, not with the day before it.
BASELINE_SPAN = timedelta(days=7)
#: Stands for the row count in the column list of an empty batch (no column to hang it on).
ROWS_ONLY = "__rows__"


@dataclass(frozen=True)
class Baseline:
    """What a snapshot is compared with: the pooled profiles of the week before it.

    Attributes:
        feature_ts: the newest pooled snapshot (the previous one that passed).
        rows: the pooled snapshots' mean row count.
        profiles: per column, the profile of all pooled snapshots' values together.
        oldest: the oldest pooled snapshot.
        snapshots: how many snapshots were pooled.
    """

    feature_ts: datetime
    rows: int
    profiles: dict[str, ColumnProfile]
    oldest: datetime | None = None
    snapshots: int = 1

    def spans_week(self, cadence: timedelta) -> bool:
        """Whether the pooled snapshots cover a whole week (every weekday, every hour)."""
        return self.feature_ts - (self.oldest or self.feature_ts) >= BASELINE_SPAN - cadence


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

    A snapshot's baseline pools the snapshots that passed in the :data:`BASELINE_SPAN`
    ending with the newest one before it (within :data:`BASELINE_LOOKBACK`), among those
    stored before the range began (one read, :func:`read_baselines`) and the range's own
    snapshots that passed before it (:meth:`passed`): what a day by day run would find,
    since each day's profile is recorded before the next one runs. Only snapshots whose
    windows were full (``is_full``) are pooled: a warming-up snapshot is nobody's baseline.
    """

    def __init__(
        self, stored: list[ProfileRow], is_full: Callable[[datetime], bool] = lambda _: True
    ) -> None:
        self._is_full = is_full
        # Per snapshot time the newest profile; a range's own verdict ranks above stored.
        self._best: dict[datetime, tuple[tuple[int, datetime, str], _Member]] = {}
        by_batch: dict[tuple[datetime, datetime, str], list[ProfileRow]] = {}
        for row in stored:
            key = (collected_utc(row.feature_ts), collected_utc(row.profiled_at), row.gate_id)
            by_batch.setdefault(key, []).append(row)
        for (feature_ts, profiled_at, gate_id), rows in by_batch.items():
            self._offer(feature_ts, (0, profiled_at, gate_id), _member(rows))

    def before(self, feature_ts: datetime) -> Baseline | None:
        """The baseline of the snapshot at ``feature_ts``, if any."""
        since = feature_ts - BASELINE_LOOKBACK
        eligible = sorted(t for t in self._best if since <= t < feature_ts and self._is_full(t))
        if not eligible:
            return None
        newest = eligible[-1]
        week = [self._best[t][1] for t in eligible if t > newest - BASELINE_SPAN]
        return pool(week)

    def passed(self, feature_ts: datetime, scan: Scan) -> None:
        """Record that the range's snapshot at ``feature_ts`` passed (ranks above stored)."""
        member = _Member(feature_ts, scan.rows, dict(scan.profiles))
        self._offer(feature_ts, (1, feature_ts, ""), member)

    def _offer(
        self, feature_ts: datetime, rank: tuple[int, datetime, str], member: _Member
    ) -> None:
        current = self._best.get(feature_ts)
        if current is None or rank > current[0]:
            self._best[feature_ts] = (rank, member)


@dataclass(frozen=True)
class _Member:
    """One passed snapshot's profile, a candidate for pooling."""

    feature_ts: datetime
    rows: int
    profiles: dict[str, ColumnProfile]


def pool(members: Sequence[_Member]) -> Baseline:
    """The baseline of ``members`` (time order): their values taken together.

    Null counts and row counts are averaged, means weighted by their non-null values, and
    the percentiles are those of the mixture of the members' distributions (each member's
    1st..99th percentiles standing for its values); one member is its own baseline.
    """
    newest = members[-1]
    rows = round(sum(m.rows for m in members) / len(members))
    profiles = {}
    for column, latest in newest.profiles.items():
        parts = [m.profiles[column] for m in members if column in m.profiles]
        profiles[column] = _pooled(latest, parts, [m.rows for m in members
                                                   if column in m.profiles])  # fmt: skip
    return Baseline(newest.feature_ts, rows, profiles, members[0].feature_ts, len(members))


def _pooled(latest: ColumnProfile, parts: list[ColumnProfile], rows: list[int]) -> ColumnProfile:
    if len(parts) == 1:
        return latest
    nulls = round(sum(p.null_count for p in parts) / len(parts))
    if not latest.numeric:
        return ColumnProfile(latest.column, False, nulls)
    valued = [(p, r - p.null_count) for p, r in zip(parts, rows, strict=True)]
    with_mean = [(p.mean, n) for p, n in valued if p.mean is not None and n > 0]
    weight = sum(n for _, n in with_mean)
    mean = sum(m * n for m, n in with_mean) / weight if weight else None
    lows = [p.min for p in parts if p.min is not None]
    highs = [p.max for p in parts if p.max is not None]
    return ColumnProfile(
        latest.column, True, nulls, mean, min(lows) if lows else None,
        max(highs) if highs else None, _mixture_percentiles(valued),
    )  # fmt: skip


def _mixture_percentiles(valued: list[tuple[ColumnProfile, int]]) -> tuple[float, ...] | None:
    """The 1st..99th percentiles of the members' values pooled, from their percentiles.

    Each of a member's percentile points stands for ``1/len`` of its non-null values; the
    pooled q-th percentile is the first point at which the pooled share reaches q.
    """
    points = sorted(
        (q, n / len(p.percentiles))
        for p, n in valued
        if p.percentiles and n > 0
        for q in p.percentiles
    )
    if not points:
        return None
    total = sum(w for _, w in points)
    count = len(next(p.percentiles for p, n in valued if p.percentiles and n > 0))
    found: list[float] = []
    reached = 0.0
    i = 0
    for j in range(1, count + 1):
        target = total * j / (count + 1)
        while i < len(points) - 1 and reached + points[i][1] < target * (1 - 1e-12):
            reached += points[i][1]
            i += 1
        found.append(points[i][0])
    return tuple(found)


def read_baselines(
    spark: SparkSession,
    settings: Settings,
    view: str,
    definition_version: str,
    times: Sequence[datetime],
) -> list[ProfileRow]:
    """The passed profiles the snapshots at ``times`` can compare with (one small read);
    a :class:`BaselineChain` picks from them."""
    first, last = min(times), max(times)
    return passed_profiles(
        spark, settings, view, definition_version, first - BASELINE_LOOKBACK, last
    )


def _member(rows: list[ProfileRow]) -> _Member:
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
    return _Member(collected_utc(rows[0].feature_ts), int(rows[0].row_count), profiles)


def collected_utc(moment: datetime) -> datetime:
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

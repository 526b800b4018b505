"""materialize(view, date): source -> snapshot -> validation gate -> one Delta commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, cast

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import SkewlessError, TimeSemanticsError
from feature_jobs.locks import run_lock
from feature_jobs.offline import Commit, with_bookkeeping, write_snapshot
from feature_jobs.run_ids import checked_run_id, new_run_id
from feature_jobs.settings import Settings
from feature_jobs.sources import check_rows, read_source
from feature_jobs.timeutil import snapshot_times, utc_now
from feature_jobs.transform import (
    check_expressions,
    compute_snapshots,
    prepare_events,
    prune_events,
)
from feature_jobs.validation.gate import enforce_gate

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MaterializeResult:
    """One committed snapshot."""

    view: str
    snapshot_date: date
    feature_ts: datetime
    rows: int
    delta_version: int
    run_id: str
    definition_version: str
    seconds: float

    def summary(self) -> str:
        """The one-line summary printed per view and date."""
        return (
            f"{self.view} {self.snapshot_date} feature_ts={self.feature_ts:%Y-%m-%dT%H:%MZ} "
            f"rows={self.rows} delta_version={self.delta_version} "
            f"definition={self.definition_version} {self.seconds:.1f}s"
        )


def materialize(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    day: date,
    *,
    run_id: str | None = None,
    allow_unvalidated: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> list[MaterializeResult]:
    """Compute, validate and commit the snapshot(s) of ``view`` for logical date ``day``."""
    return materialize_range(
        spark,
        settings,
        view,
        [day],
        run_id=run_id,
        allow_unvalidated=allow_unvalidated,
        now=now,
        progress=progress,
    )


def materialize_range(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    days: Sequence[date],
    *,
    run_id: str | None = None,
    allow_unvalidated: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> list[MaterializeResult]:
    """Materialize several dates of one view, reading and preparing the source once.

    Each snapshot is still validated and committed on its own (one Delta commit per
    snapshot time), so a failure on one date leaves the dates before it committed and
    nothing of the failed one.

    Raises:
        LockHeld: another run holds the lock of one of the dates; nothing was done.
    """
    # One run per view and date: the lock of every date of the range is held until the
    # last commit, so a second run started meanwhile fails with LockHeld.
    with run_lock(settings, "data", "materialize", view.name, days, run_id):
        return _materialize_locked(
            spark, settings, view, days, run_id=run_id,
            allow_unvalidated=allow_unvalidated, now=now, progress=progress,
        )  # fmt: skip


def _materialize_locked(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    days: Sequence[date],
    *,
    run_id: str | None,
    allow_unvalidated: bool,
    now: datetime | None,
    progress: Progress | None,
) -> list[MaterializeResult]:
    """The work of :func:`materialize_range`; the caller holds the locks of ``days``."""
    now = now or utc_now()
    run_id = run_id or new_run_id(now)
    checked_run_id(run_id)
    times = [
        (day, ts) for day in sorted(set(days)) for ts in snapshot_times(day, view.cadence_delta)
    ]
    unfinished = [ts for _, ts in times if ts > now]
    if unfinished:
        raise TimeSemanticsError(
            f"feature view {view.name}: the snapshot at {unfinished[0].isoformat()} is in the "
            f"future (now is {now:%Y-%m-%dT%H:%M}Z); materialize a date only once it is over"
        )
    events = read_source(spark, settings, view.source)
    check_expressions(view, events.limit(0))
    pruned = prune_events(view, events, times[0][1] - view.longest_window, times[-1][1])
    check_rows(pruned, view.source, view.keys, view.name)
    prepared = prepare_events(view, pruned)
    from pyspark.sql import functions as F

    # Every snapshot of the range in one aggregation, cached; each date is then a cheap
    # slice that is validated and committed on its own.
    all_snapshots = compute_snapshots(view, prepared, [ts for _, ts in times])
    if len(times) > 1:
        all_snapshots = all_snapshots.cache()
    results: list[MaterializeResult] = []
    try:
        for day, feature_ts in times:
            started = time.monotonic()
            one = all_snapshots.where(F.col("feature_ts") == F.lit(feature_ts))
            snapshot = with_bookkeeping(one, view, day, run_id, now).cache()
            try:
                # The gate commits the snapshot itself once it passed, so the profile it
                # then records follows the Delta commit (a failed write leaves none).
                gate = enforce_gate(
                    spark,
                    settings,
                    view,
                    snapshot,
                    feature_ts,
                    run_id,
                    allow_unvalidated=allow_unvalidated,
                    now=now,
                    commit=partial(write_snapshot, spark, settings, view, snapshot, feature_ts,
                                   run_id),
                )  # fmt: skip
                rows = snapshot.count()
            finally:
                snapshot.unpersist()
            commit = cast(Commit, gate.committed)
            result = MaterializeResult(
                view=view.name,
                snapshot_date=day,
                feature_ts=feature_ts,
                rows=rows,
                delta_version=commit.version,
                run_id=run_id,
                definition_version=view.version,
                seconds=time.monotonic() - started,
            )
            results.append(result)
            if progress is not None:
                progress(result.summary())
    finally:
        all_snapshots.unpersist()
    return results


@dataclass(frozen=True)
class ViewOutcome:
    """What happened to one view in a multi-view run."""

    view: str
    results: tuple[MaterializeResult, ...]
    error: SkewlessError | None


def materialize_views(
    spark: SparkSession,
    settings: Settings,
    views: Sequence[FeatureView],
    days: Sequence[date],
    *,
    run_id: str | None = None,
    allow_unvalidated: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    parallelism: int = 3,
) -> list[ViewOutcome]:
    """Materialize several views, each in its own driver thread.

    Most of a snapshot's wall time is driver-side latency (Delta log, job scheduling), so
    views proceed side by side on one Spark session. A view that fails does not stop the
    others, as in the daily DAG; the caller decides how to report failures.
    """
    run_id = run_id or new_run_id(now)
    lock = threading.Lock()

    def locked_progress(line: str) -> None:
        if progress is not None:
            with lock:
                progress(line)

    def one(view: FeatureView) -> ViewOutcome:
        try:
            results = materialize_range(
                spark, settings, view, days, run_id=run_id,
                allow_unvalidated=allow_unvalidated, now=now, progress=locked_progress,
            )  # fmt: skip
            return ViewOutcome(view.name, tuple(results), None)
        except SkewlessError as exc:
            return ViewOutcome(view.name, (), exc)

    # Pandera registers its PySpark backends on first import; doing that from several
    # threads at once can deadlock on the import lock, so import it here first.
    import pandera.pyspark  # noqa: F401

    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="view") as pool:
        return list(pool.map(one, views))

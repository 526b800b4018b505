"""materialize(view, dates): source -> snapshots -> validation gate -> one Delta commit.

A date and a backfill range take the same path: every snapshot of the range is computed
in one Spark plan (the source read and deduplicated once), judged by the gate in one pass,
and the passing ones are committed together in one Delta commit; a refused snapshot is
quarantined alone (see :mod:`feature_jobs.validation.gate`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, cast

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import SkewlessError, SnapshotsRefused, TimeSemanticsError
from feature_jobs.locks import run_lock
from feature_jobs.offline import Commit, with_bookkeeping, write_snapshots
from feature_jobs.run_ids import checked_run_id, new_run_id
from feature_jobs.settings import Settings
from feature_jobs.sources import check_rows, read_source
from feature_jobs.timeutil import logical_date, snapshot_times, utc_now
from feature_jobs.transform import (
    check_expressions,
    compute_snapshots,
    prepare_events,
    prune_events,
)
from feature_jobs.validation.gate import gate_snapshots
from feature_jobs.validation.scan import scan_snapshots
from feature_jobs.validation.verdicts import Verdict

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
        """The one-line summary of one snapshot."""
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
    """Materialize several dates of one view in one Spark plan and one Delta commit.

    Every snapshot of ``days`` is computed together, judged by the gate in one pass, and
    the passing ones replace exactly their snapshots in one commit: a crash before it
    leaves nothing of the range, and a re-run converges. Returns one result per
    committed snapshot, in time order.

    Raises:
        LockHeld: another run holds the lock of one of the dates; nothing was done.
        SnapshotsRefused: some snapshots failed validation and were quarantined (with their
            report and alert); the others were committed and are in its ``committed``.
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
    started = time.monotonic()
    now = now or utc_now()
    run_id = run_id or new_run_id(now)
    checked_run_id(run_id)
    times = [ts for day in sorted(set(days)) for ts in snapshot_times(day, view.cadence_delta)]
    unfinished = [ts for ts in times if ts > now]
    if unfinished:
        raise TimeSemanticsError(
            f"feature view {view.name}: the snapshot at {unfinished[0].isoformat()} is in the "
            f"future (now is {now:%Y-%m-%dT%H:%M}Z); materialize a date only once it is over"
        )
    events = read_source(spark, settings, view.source)
    check_expressions(view, events.limit(0))
    pruned = prune_events(view, events, times[0] - view.longest_window, times[-1])
    check_rows(pruned, view.source, view.keys, view.name)
    prepared = prepare_events(view, pruned)
    computed = compute_snapshots(view, prepared, times)
    # Cached: the gate's pass, its samples of failing rows and the Delta write read it.
    snapshots = with_bookkeeping(computed, view, run_id, now).cache()

    def commit(passing: Sequence[datetime]) -> Commit:
        if progress is not None:
            progress(
                f"{view.name}: {len(passing)} of {len(times)} snapshot(s) validated, committing"
            )
        rows = snapshots
        if len(passing) < len(times):
            rows = snapshots.where(snapshots["feature_ts"].isin(list(passing)))
        return write_snapshots(spark, settings, view, rows, passing, run_id)

    try:
        gate = gate_snapshots(
            spark, settings, view, snapshots, times, run_id,
            allow_unvalidated=allow_unvalidated, now=now, commit=commit,
        )  # fmt: skip
        if gate.validated:
            rows_at = {v.key.feature_ts: v.scan.rows for v in gate.verdicts}
        else:  # the gate counted nothing: count the rows per snapshot, no rule, no profile
            counted = scan_snapshots(snapshots, [], {}, times).by_time
            rows_at = {ts: found.rows for ts, found in counted.items()}
    finally:
        snapshots.unpersist()
    committed = cast(Commit | None, gate.committed)
    refused = {v.key.feature_ts for v in gate.refused}
    seconds = time.monotonic() - started
    results = [
        MaterializeResult(
            view=view.name,
            snapshot_date=logical_date(ts),
            feature_ts=ts,
            rows=rows_at[ts],
            delta_version=committed.version,
            run_id=run_id,
            definition_version=view.version,
            seconds=seconds,
        )
        for ts in times
        if ts not in refused and committed is not None
    ]
    if progress is not None and results:
        progress(range_summary(results))
    if gate.refused:
        raise SnapshotsRefused(_refusal_line(view, gate.refused, results), tuple(results))
    return results


def range_summary(results: Sequence[MaterializeResult]) -> str:
    """One line for the committed snapshots of one view's run."""
    first, last = results[0], results[-1]
    span = f"{first.snapshot_date}" + (
        f"..{last.snapshot_date}" if last.snapshot_date != first.snapshot_date else ""
    )
    if len(results) == 1:
        return first.summary()
    return (
        f"{first.view} {span}: {len(results)} snapshots, {sum(r.rows for r in results)} rows "
        f"in one commit, delta_version={last.delta_version} "
        f"definition={first.definition_version} {last.seconds:.1f}s"
    )


def _refusal_line(
    view: FeatureView, refused: Sequence[Verdict], committed: Sequence[MaterializeResult]
) -> str:
    """The first refused snapshot's line, then how many others failed and what committed."""
    line = refused[0].failure_line(view.name)
    if len(refused) > 1:
        others = ", ".join(str(v.key.snapshot_date) for v in refused[1:6])
        more = "" if len(refused) <= 6 else f" and {len(refused) - 6} more"
        line += f"; {len(refused) - 1} other snapshot(s) failed too: {others}{more}"
    if committed:
        line += (
            f"; the {len(committed)} passing snapshot(s) were committed "
            f"(delta_version={committed[0].delta_version})"
        )
    return line


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
        except SnapshotsRefused as exc:
            committed = tuple(r for r in exc.committed if isinstance(r, MaterializeResult))
            return ViewOutcome(view.name, committed, exc)
        except SkewlessError as exc:
            return ViewOutcome(view.name, (), exc)

    # Pandera registers its PySpark backends on first import; doing that from several
    # threads at once can deadlock on the import lock, so import it here first.
    import pandera.pyspark  # noqa: F401

    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="view") as pool:
        return list(pool.map(one, views))

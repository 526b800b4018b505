"""``sync(view, date)``: publish one Delta snapshot to Redis, atomically per view.

1. Log a previous publish that went live but crashed before its sync-log row.
2. Pin the offline table version and find the snapshot of the date (rows, feature_ts,
   definition version) with one small aggregate.
3. Skip when a newer snapshot is already live: a backfill never touches what is served.
4. Register a fresh snapshot token, then let the executors write it (``mapInArrow``,
   pipelined per bucket); only a per-partition row count returns to the driver.
5. Swap the pointer in one Lua script (refusing to go backwards), append the publish to
   the sync log, and retire the superseded snapshot after a grace period.

The work runs inside ``with alert_on_failure(...)``: a failure or refusal sends exactly
one alert (kind ``sync.failed`` / ``sync.refused``) and re-raises.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import LockHeld, OnlineStoreError, PublishRefused, SkewlessError
from feature_jobs.locks import run_lock
from feature_jobs.offline import (
    OfflineSnapshot,
    SyncLogEntry,
    append_sync_log,
    has_entry,
    open_snapshot,
    require_publishable,
    require_unique_keys,
    snapshot_stats,
)
from feature_jobs.online import publish  # called via the module: fault tests replace steps
from feature_jobs.online.connection import JOB_RETRY, Client, connect, online_url, redis_errors
from feature_jobs.online.keys import bucket_count, data_prefix, new_token
from feature_jobs.online.writer import RESULT_SCHEMA, PartitionWriter
from feature_jobs.settings import Settings
from feature_jobs.spark.task_errors import raise_task_error
from feature_jobs.timeutil import require_utc, utc_now

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Every online key expires at the latest this long after its publish (a safety net).
MIN_TTL = timedelta(days=14)


@dataclass(frozen=True)
class SyncResult:
    """What one sync did.

    ``published`` is False when a newer snapshot was already live (then ``rows`` is 0 and
    ``reason`` says which snapshot is served). ``seconds`` is the wall time of the sync.
    """

    view: str
    snapshot_date: date
    feature_ts: datetime
    delta_version: int
    rows: int
    published: bool
    reason: str
    token: str | None
    started_at: datetime
    live_at: datetime | None
    run_id: str
    seconds: float


def default_ttl(view: FeatureView) -> timedelta:
    """TTL of a view's online keys: long enough to outlive any sensible gap between syncs."""
    return max(MIN_TTL, 3 * view.max_age_delta + view.cadence_delta)


def sync(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    day: date,
    *,
    run_id: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    grace: timedelta = publish.DEFAULT_GRACE,
    abandoned_after: timedelta = publish.DEFAULT_ABANDONED_AFTER,
    ttl: timedelta | None = None,
    force: bool = False,
) -> SyncResult:
    """Publish the snapshot of ``view`` for logical date ``day`` to the online store.

    Args:
        spark: the session (executors write to Redis themselves).
        settings: locations, project namespace and ``REDIS_URL``.
        view: the feature view.
        day: logical date D; its latest snapshot (``feature_ts`` <= D+1 00:00) is published.
        run_id: recorded in the sync log; a fresh id when omitted.
        clock: wall clock (UTC) for the start time and orphan detection.
        grace: how long a superseded snapshot stays readable after the swap.
        abandoned_after: age after which a never-published snapshot is deleted.
        ttl: TTL of the published keys (default :func:`default_ttl`).
        force: publish even a snapshot with under half the live one's rows.

    Returns:
        A :class:`SyncResult`; ``published`` is False when a newer snapshot is live.

    Raises:
        PublishRefused: no snapshot for the date, or it was computed by other definitions.
        OnlineStoreError: Redis is unreachable or a concurrent sync retired this snapshot.
        OfflineStoreError: the offline table cannot be read, or its snapshot repeats a key.
        LockHeld: another sync of this view and date is running (not alerted).

    Every failure but :class:`LockHeld` sends one alert (``sync.failed``/``sync.refused``).
    """
    # One sync per view and date at a time (a lock in Redis); a second one fails with
    # LockHeld. The alert wraps the lock, so it is sent once the lock is released.
    with (
        alert_on_failure(settings, view.name, day, run_id),
        run_lock(settings, "online", "sync", view.name, [day], run_id),
    ):
        return _sync_locked(
            spark, settings, view, day, run_id=run_id, clock=clock, grace=grace,
            abandoned_after=abandoned_after, ttl=ttl, force=force,
        )  # fmt: skip


def _sync_locked(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    day: date,
    *,
    run_id: str | None,
    clock: Callable[[], datetime],
    grace: timedelta,
    abandoned_after: timedelta,
    ttl: timedelta | None,
    force: bool,
) -> SyncResult:
    """The work of :func:`sync`; the caller holds the lock of ``view`` and ``day``."""
    t0 = time.perf_counter()
    started_at = require_utc(clock(), "clock()")
    run_id = run_id or uuid.uuid4().hex
    ttl = ttl or default_ttl(view)
    url = online_url(settings)
    project, name = settings.project, view.name
    with redis_errors(url):
        client = connect(url, retry=JOB_RETRY)
        reconcile_sync_log(spark, settings, client, name)
        snapshot = open_snapshot(spark, settings, view, day)
        rows = 0

        def result(published: bool, reason: str, token: str | None = None,
                   live_at: datetime | None = None) -> SyncResult:  # fmt: skip
            return SyncResult(
                name, day, snapshot.feature_ts, snapshot.delta_version, rows, published,
                reason, token, started_at, live_at, run_id, time.perf_counter() - t0,
            )  # fmt: skip

        live = publish.read_live(client, project, name)
        if live is not None and _newer(live.meta, snapshot):
            return result(
                False,
                f"live snapshot {live.meta.feature_ts.isoformat()} (table version "
                f"{live.meta.delta_version}) is newer; what is served stays as it is",
            )
        if live is None:
            # A first publish: count the rows to size the buckets, and refuse early. Later
            # publishes size by the live snapshot and let the write job count.
            stats = snapshot_stats(snapshot)
            require_publishable(
                view, day, snapshot.delta_version, stats.rows, stats.definition_versions
            )
        expected = stats.rows if live is None else live.meta.rows
        meta = _meta(view, day, snapshot, run_id, started_at, bucket_count(expected))
        publish.register(client, project, name, meta, ttl)
        try:
            rows = _write(snapshot, view, meta, data_prefix(project, name, meta.token), url, ttl)
            # A collapsed snapshot (half the entities gone) is refused unless forced.
            publish.check_shrink(name, live.meta if live else None, rows, force)
            meta = dataclasses.replace(meta, rows=rows)
            publish.set_rows(client, project, name, meta.token, rows)
            outcome = publish.go_live(client, project, name, meta.token, ttl)
        except BaseException:
            publish.retire(client, project, name, meta.token, timedelta(0))
            raise
        if outcome.status == "newer":
            publish.retire(client, project, name, meta.token, timedelta(0))
            return result(False, f"a newer snapshot ({outcome.newer_ts}) went live meanwhile")
        if outcome.status == "incomplete":  # fewer entities stored than rows written
            publish.retire(client, project, name, meta.token, timedelta(0))
            # Rows repeating a key overwrite each other in Redis: the table is at fault.
            require_unique_keys(view, day, snapshot)
            # Otherwise Redis lost some of it (a restart without persistence, an eviction).
            raise OnlineStoreError(
                f"snapshot {meta.token} of {name} is incomplete in Redis ({outcome.detail}): "
                "the server lost writes; nothing was published - re-run the sync"
            )
        if outcome.status == "gone" or outcome.live_at is None:
            raise OnlineStoreError(
                f"snapshot {meta.token} of {name} was retired by a concurrent sync (or "
                "expired) before going live; re-run the sync"
            )
        _log(spark, settings, client, name, meta, outcome.live_at)
        if outcome.previous_token:
            publish.retire(client, project, name, outcome.previous_token, grace)
        publish.retire_superseded(
            client, project, name, clock(), grace, abandoned_after, [meta.token]
        )
        return result(True, "published", meta.token, outcome.live_at)


def reconcile_sync_log(spark: SparkSession, settings: Settings, client: Client, view: str) -> bool:
    """Append the live publish to the sync log if a crash kept it out; True if it did."""
    live = publish.read_live(client, settings.project, view)
    if live is None or live.logged:
        return False
    if has_entry(spark, settings, view, live.meta.feature_ts, live.live_at):
        publish.mark_logged(client, settings.project, view, live.meta.token)
        return False
    _log(spark, settings, client, view, live.meta, live.live_at)
    return True


def _newer(live: publish.SnapshotMeta, snapshot: OfflineSnapshot) -> bool:
    # The same rule the go-live script enforces, checked first to skip a pointless write.
    if live.feature_ts != snapshot.feature_ts:
        return live.feature_ts > snapshot.feature_ts
    return live.delta_version > snapshot.delta_version


def _meta(
    view: FeatureView,
    day: date,
    snapshot: OfflineSnapshot,
    run_id: str,
    started_at: datetime,
    buckets: int,
) -> publish.SnapshotMeta:
    columns = tuple(f.name for f in view.features)
    return publish.SnapshotMeta(
        token=new_token(snapshot.feature_ts),
        feature_ts=snapshot.feature_ts,
        snapshot_date=day,
        buckets=buckets,
        columns=columns,
        types=tuple(view.output_type(name) for name in columns),
        delta_version=snapshot.delta_version,
        definition_version=view.version,
        run_id=run_id,
        rows=0,  # known once the executors have written it
        started_at=started_at,
    )


def _write(
    snapshot: OfflineSnapshot, view: FeatureView, meta: publish.SnapshotMeta, prefix: str, url: str,
    ttl: timedelta,
) -> int:  # fmt: skip
    """Run the write job; return the rows written (refuse foreign or no rows)."""
    writer = PartitionWriter(
        url=url,
        prefix=prefix,
        buckets=meta.buckets,
        key_columns=tuple(view.keys),
        value_columns=meta.columns,
        value_types=meta.types,
        ttl_ms=int((ttl + publish.DATA_TTL_SLACK).total_seconds() * 1000),
        definition_version=view.version,
    )
    try:
        with snapshot.reading():
            counts = snapshot.frame.mapInArrow(writer, RESULT_SCHEMA).collect()
    except Exception as exc:  # an executor's one-line error, not Spark's wrapper
        raise_task_error(exc)
    written = sum(int(row["rows"]) for row in counts)
    foreign = [row for row in counts if row["foreign"]]
    require_publishable(
        view,
        meta.snapshot_date,
        snapshot.delta_version,
        written + sum(int(row["foreign"]) for row in foreign),
        tuple(
            sorted(({view.version} if written else set()) | {r["foreign_version"] for r in foreign})
        ),
    )
    return written


def _log(
    spark: SparkSession,
    settings: Settings,
    client: Client,
    view: str,
    meta: publish.SnapshotMeta,
    live_at: datetime,
) -> None:
    entry = SyncLogEntry(
        project=settings.project,
        view=view,
        feature_ts=meta.feature_ts,
        snapshot_date=meta.snapshot_date,
        delta_version=meta.delta_version,
        definition_version=meta.definition_version,
        row_count=meta.rows,
        started_at=meta.started_at,
        live_at=live_at,
        run_id=meta.run_id,
    )
    append_sync_log(spark, settings, entry)
    publish.mark_logged(client, settings.project, view, meta.token)


@contextmanager
def alert_on_failure(
    settings: Settings, view: str, day: date, run_id: str | None
) -> Iterator[None]:
    """Send one alert when the sync of ``view`` for ``day`` run inside this block fails.

    The error is re-raised. A :class:`PublishRefused` is alerted as ``sync.refused``, any
    other :class:`SkewlessError` as ``sync.failed``; a :class:`LockHeld` is not alerted:
    another run of the same sync is doing the work.
    """
    try:
        yield
    except LockHeld:
        raise
    except SkewlessError as exc:
        _send(settings, view, day, run_id, exc)
        raise


def _send(settings: Settings, view: str, day: date, run_id: str | None, exc: SkewlessError) -> None:
    from feature_jobs.alerts import Alert, send_alert
    from feature_jobs.redaction import redact_text

    refused = isinstance(exc, PublishRefused)
    send_alert(
        settings,
        Alert(
            kind="sync.refused" if refused else "sync.failed",
            title=f"sync of {view} for {day} {'was refused' if refused else 'failed'}",
            message=redact_text(f"{exc}; online keeps serving the previous snapshot"),
            view=view,
            snapshot_date=day.isoformat(),
            run_id=run_id,
            details={"error": type(exc).__name__},
        ),
    )

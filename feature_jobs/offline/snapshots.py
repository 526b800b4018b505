"""The offline table of a view, ``offline/<view>``: every snapshot, one Delta commit each.

A snapshot's rows are its keys and features, then :data:`BOOKKEEPING_COLUMNS`; the table
is partitioned by ``snapshot_date``. A write replaces exactly the snapshots it covers, so
a re-run never duplicates and readers see either the old rows or the new ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import PublishRefused
from feature_jobs.offline.layout import table_exists, view_table
from feature_jobs.settings import Settings
from feature_jobs.spark.jvm_errors import delta_errors
from feature_jobs.timeutil import logical_date

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Columns every snapshot row carries after the keys and features, in this order.
BOOKKEEPING_COLUMNS = (
    "feature_ts",
    "snapshot_date",
    "definition_version",
    "run_id",
    "materialized_at",
)


@dataclass(frozen=True)
class Commit:
    """The Delta commit a snapshot write produced."""

    version: int
    rows: int


def ts_literal(feature_ts: datetime) -> str:
    """A Spark SQL timestamp literal for a UTC instant (the session zone is UTC)."""
    return f"TIMESTAMP '{feature_ts.strftime('%Y-%m-%d %H:%M:%S')}'"


def with_bookkeeping(
    snapshots: DataFrame, view: FeatureView, run_id: str, now: datetime
) -> DataFrame:
    """Computed snapshots (keys, features, ``feature_ts``) in the offline table's layout.

    ``snapshot_date``, the partition, is each row's logical date (:func:`snapshot_date_of`).
    """
    from pyspark.sql import functions as F

    return snapshots.select(
        *view.keys,
        *[f.name for f in view.features],
        "feature_ts",
        snapshot_date_of("feature_ts").alias("snapshot_date"),
        F.lit(view.version).alias("definition_version"),
        F.lit(run_id).alias("run_id"),
        F.lit(now).cast("timestamp").alias("materialized_at"),
    )


def snapshot_date_of(column: str) -> Column:
    """The logical date of a snapshot-time column, as :func:`timeutil.logical_date` (UTC).

    The day of the instant one microsecond earlier: a midnight boundary belongs to the day
    that ended there. The session time zone is UTC (see :mod:`feature_jobs.spark.session`).
    """
    from pyspark.sql import functions as F

    return F.to_date(F.timestamp_micros(F.unix_micros(F.col(column)) - F.lit(1)))


def write_snapshot(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    snapshot: DataFrame,
    feature_ts: datetime,
    run_id: str,
) -> Commit:
    """Replace the snapshot at ``feature_ts`` in ``offline/<view>`` in one Delta commit."""
    return write_snapshots(spark, settings, view, snapshot, [feature_ts], run_id)


def write_snapshots(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    snapshots: DataFrame,
    times: Sequence[datetime],
    run_id: str,
) -> Commit:
    """Replace the snapshots taken at ``times`` in ``offline/<view>`` in one Delta commit.

    ``replaceWhere`` makes the commit idempotent: the rows of those snapshots (and only
    those) are swapped atomically, so a re-run never duplicates and readers see either
    the old rows or the new ones. A snapshot time with no rows is emptied; other
    snapshots, of these dates or others, are untouched, and Delta refuses the commit if a
    row belongs to a snapshot outside ``times``. A backfill range is one such commit.
    """
    if not times:
        raise ValueError("write_snapshots needs at least one date: no snapshot time was given")
    ordered = sorted(set(times))
    days = sorted({logical_date(ts) for ts in ordered})
    dates = ", ".join(f"DATE '{day.isoformat()}'" for day in days)
    instants = ", ".join(ts_literal(ts) for ts in ordered)
    # The partition term lets Delta prune to the dates' folders before the time filter.
    predicate = f"snapshot_date IN ({dates}) AND feature_ts IN ({instants})"
    if len(ordered) == 1:
        metadata: dict[str, Any] = {"feature_ts": ordered[0].isoformat()}
        what = f"the snapshot at {ordered[0].isoformat()}"
    else:
        metadata = {"snapshot_dates": [d.isoformat() for d in days], "snapshots": len(ordered)}
        what = f"the snapshots of {days[0]}" + (f"..{days[-1]}" if len(days) > 1 else "")
    metadata = {"view": view.name, **metadata, "run_id": run_id}
    return _replace(spark, settings, view, snapshots, predicate, metadata, what)


def _replace(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    rows: DataFrame,
    predicate: str,
    metadata: dict[str, Any],
    what: str,
) -> Commit:
    """Swap the rows matching ``predicate`` for ``rows`` in one commit (create the table)."""
    path = view_table(settings, view.name)
    writer = (
        rows.write.format("delta")
        .option("userMetadata", json.dumps(metadata))
        # A new feature in a changed definition adds a column; old rows read it as null.
        .option("mergeSchema", "true")
    )
    if table_exists(spark, path):
        writer = writer.mode("overwrite").option("replaceWhere", predicate)
    else:
        writer = writer.mode("append").partitionBy("snapshot_date")
    with delta_errors(
        f"feature view {view.name}: writing {what} to {path} failed, nothing was committed", path
    ):
        writer.save(path)
    with delta_errors(f"feature view {view.name}: reading the commit just made to {path}", path):
        return last_commit(spark, path)


def last_commit(spark: SparkSession, path: str) -> Commit:
    """Version and written row count of the latest commit of the table at ``path``.

    Delta skips a commit that would change nothing (an empty snapshot over no rows), so the
    latest commit may be older than the write; callers count rows from their own frame.
    """
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).history(1).select("version", "operationMetrics").first()
    assert row is not None
    metrics = row["operationMetrics"] or {}
    return Commit(version=int(row["version"]), rows=int(metrics.get("numOutputRows") or 0))


def read_offline(spark: SparkSession, settings: Settings, view: FeatureView) -> DataFrame:
    """The view's whole history as a lazy DataFrame (nothing is collected)."""
    return spark.read.format("delta").load(view_table(settings, view.name))


def read_snapshot(
    spark: SparkSession, settings: Settings, view: FeatureView, feature_ts: datetime
) -> DataFrame:
    """The rows of one snapshot."""
    from pyspark.sql import functions as F

    return read_offline(spark, settings, view).where(F.col("feature_ts") == F.lit(feature_ts))


def last_snapshot_date(spark: SparkSession, settings: Settings, view: FeatureView) -> date | None:
    """The newest materialized logical date of a view, or None before the first one."""
    if not table_exists(spark, view_table(settings, view.name)):
        return None
    return _newest_date(spark, settings, view)


def latest_snapshot_date(spark: SparkSession, settings: Settings, view: FeatureView) -> date:
    """The newest ``snapshot_date`` of ``view``, for a command given no date.

    Raises:
        PublishRefused: the view has no offline table, or an empty one.
    """
    path = view_table(settings, view.name)
    if not table_exists(spark, path):
        raise PublishRefused(
            f"no offline table for view {view.name} at {path}; run materialize first"
        )
    latest = _newest_date(spark, settings, view)
    if latest is None:
        raise PublishRefused(f"offline/{view.name} is empty; run materialize first")
    return latest


def _newest_date(spark: SparkSession, settings: Settings, view: FeatureView) -> date | None:
    from pyspark.sql import functions as F

    row = read_offline(spark, settings, view).agg(F.max("snapshot_date").alias("d")).first()
    return None if row is None else row["d"]

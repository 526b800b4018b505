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
    from pyspark.sql import DataFrame, SparkSession

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


def snapshot_predicate(feature_ts: datetime) -> str:
    """SQL predicate selecting exactly one snapshot; the partition term lets Delta prune."""
    return (
        f"snapshot_date = DATE '{logical_date(feature_ts).isoformat()}' "
        f"AND feature_ts = {ts_literal(feature_ts)}"
    )


def with_bookkeeping(
    snapshot: DataFrame, view: FeatureView, day: date, run_id: str, now: datetime
) -> DataFrame:
    """A computed snapshot (keys, features, ``feature_ts``) in the offline table's layout."""
    from pyspark.sql import functions as F

    return snapshot.select(
        *view.keys,
        *[f.name for f in view.features],
        "feature_ts",
        F.lit(day).cast("date").alias("snapshot_date"),
        F.lit(view.version).alias("definition_version"),
        F.lit(run_id).alias("run_id"),
        F.lit(now).cast("timestamp").alias("materialized_at"),
    )


def write_snapshot(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    snapshot: DataFrame,
    feature_ts: datetime,
    run_id: str,
) -> Commit:
    """Replace the snapshot at ``feature_ts`` in ``offline/<view>`` in one Delta commit.

    ``replaceWhere`` makes the commit idempotent: the rows of that snapshot (and only
    those) are swapped atomically, so a re-run never duplicates and readers see either the
    old rows or the new ones. Delta also refuses the commit if a row falls outside the
    predicate.
    """
    metadata = {"view": view.name, "feature_ts": feature_ts.isoformat(), "run_id": run_id}
    return _replace(
        spark,
        settings,
        view,
        snapshot,
        snapshot_predicate(feature_ts),
        metadata,
        f"the snapshot at {feature_ts.isoformat()}",
    )


def write_snapshots(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    snapshots: DataFrame,
    days: Sequence[date],
    run_id: str,
) -> Commit:
    """Replace every snapshot of the logical dates ``days`` in one Delta commit.

    ``snapshots`` holds the rows of all of them (every snapshot time of an hourly view's
    date); a date with no rows is emptied. Other dates are untouched, and Delta refuses the
    commit if a row belongs to a date outside ``days``.
    """
    if not days:
        raise ValueError("write_snapshots needs at least one date")
    ordered = sorted(set(days))
    listed = ", ".join(f"DATE '{day.isoformat()}'" for day in ordered)
    dates = [d.isoformat() for d in ordered]
    metadata = {"view": view.name, "snapshot_dates": dates, "run_id": run_id}
    return _replace(
        spark,
        settings,
        view,
        snapshots,
        f"snapshot_date IN ({listed})",
        metadata,
        f"the snapshots of {dates[0]}" + (f"..{dates[-1]}" if len(dates) > 1 else ""),
    )


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

"""Delta IO of the offline store: ``offline/<view>`` holds every snapshot of a view."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView
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


def table_exists(spark: SparkSession, path: str) -> bool:
    """True when ``path`` holds a Delta table (checked on disk first to skip the JVM call)."""
    if "://" not in path:
        return (Path(path) / "_delta_log").is_dir()
    from delta.tables import DeltaTable

    return bool(DeltaTable.isDeltaTable(spark, path))


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
    path = settings.offline_path(view.name)
    metadata = json.dumps(
        {"view": view.name, "feature_ts": feature_ts.isoformat(), "run_id": run_id}
    )
    writer = (
        snapshot.write.format("delta")
        .option("userMetadata", metadata)
        # A new feature in a changed definition adds a column; old rows read it as null.
        .option("mergeSchema", "true")
    )
    if table_exists(spark, path):
        writer = writer.mode("overwrite").option("replaceWhere", snapshot_predicate(feature_ts))
    else:
        writer = writer.mode("append").partitionBy("snapshot_date")
    what = (
        f"feature view {view.name}: writing the snapshot at {feature_ts.isoformat()} to "
        f"{path} failed, nothing was committed"
    )
    with delta_errors(what, path):
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
    return spark.read.format("delta").load(settings.offline_path(view.name))


def read_snapshot(
    spark: SparkSession, settings: Settings, view: FeatureView, feature_ts: datetime
) -> DataFrame:
    """The rows of one snapshot."""
    from pyspark.sql import functions as F

    return read_offline(spark, settings, view).where(F.col("feature_ts") == F.lit(feature_ts))


def last_snapshot_date(spark: SparkSession, settings: Settings, view: FeatureView) -> date | None:
    """The newest materialized logical date of a view, or None before the first one."""
    from pyspark.sql import functions as F

    if not table_exists(spark, settings.offline_path(view.name)):
        return None
    row = read_offline(spark, settings, view).agg(F.max("snapshot_date").alias("d")).first()
    return None if row is None else row["d"]

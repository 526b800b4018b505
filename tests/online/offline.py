"""Write small offline snapshots in the layout of the offline store (see notes/common.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from feature_jobs.definitions import FeatureView
from feature_jobs.offline import view_table
from feature_jobs.settings import Settings

_SPARK = {
    "string": T.StringType(),
    "long": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "timestamp": T.TimestampType(),
}


def snapshot_ts(day: date) -> datetime:
    """feature_ts of a daily snapshot: D+1 00:00 UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def offline_schema(view: FeatureView) -> T.StructType:
    fields = [T.StructField(k, _SPARK[t]) for k, t in view.entity.join_keys.items()]
    fields += [T.StructField(f.name, _SPARK[view.output_type(f.name)]) for f in view.features]
    fields += [
        T.StructField("feature_ts", T.TimestampType()),
        T.StructField("snapshot_date", T.DateType()),
        T.StructField("definition_version", T.StringType()),
        T.StructField("run_id", T.StringType()),
        T.StructField("materialized_at", T.TimestampType()),
    ]
    return T.StructType(fields)


def write_snapshot(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    day: date,
    rows: list[dict[str, Any]],
    *,
    definition_version: str | None = None,
    partitions: int = 2,
    feature_ts: datetime | None = None,
) -> int:
    """Replace one snapshot of ``day`` with ``rows`` (one Delta commit); return the version.

    The snapshot time is D+1 00:00 UTC (a daily view's) unless ``feature_ts`` is given.
    """
    feature_ts = feature_ts or snapshot_ts(day)
    columns = [*view.keys, *(f.name for f in view.features)]
    version = definition_version or view.version
    now = datetime.now(UTC)
    data = [
        (*(row.get(c) for c in columns), feature_ts, day, version, "test-run", now) for row in rows
    ]
    frame = spark.createDataFrame(data, offline_schema(view)).repartition(partitions)
    path = view_table(settings, view.name)
    writer = frame.write.format("delta")
    if DeltaTable.isDeltaTable(spark, path):
        stamp = feature_ts.strftime("%Y-%m-%d %H:%M:%S")
        writer = writer.mode("overwrite").option("replaceWhere", f"feature_ts = '{stamp}'")
    else:
        writer = writer.mode("append").partitionBy("snapshot_date")
    writer.save(path)
    table = DeltaTable.forPath(spark, view_table(settings, view.name))
    return int(table.history(1).collect()[0]["version"])

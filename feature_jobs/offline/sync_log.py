"""The sync log: one Delta row per publish, what training's as-known mode replays.

Table ``<delta_root>/_skewless/sync_log``; columns, in this order: project, view,
feature_ts, snapshot_date, delta_version (the offline table version published from),
definition_version, row_count, started_at, live_at (the go-live instant, taken from the
Redis clock inside the pointer swap), run_id. A snapshot was served from ``live_at`` until
the ``live_at`` of the next row of the same project and view.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from feature_jobs.offline.layout import sync_log_table, table_exists
from feature_jobs.settings import Settings
from feature_jobs.spark.jvm_errors import delta_errors
from feature_jobs.spark.scoped_conf import scoped_conf

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType


@dataclass(frozen=True)
class SyncLogEntry:
    """One publish, as recorded in the sync log (fields in the table's column order)."""

    project: str
    view: str
    feature_ts: datetime
    snapshot_date: date
    delta_version: int
    definition_version: str
    row_count: int
    started_at: datetime
    live_at: datetime
    run_id: str


def sync_log_schema() -> StructType:
    """The Spark schema of the sync log."""
    from pyspark.sql import types as T

    return T.StructType(
        [
            T.StructField("project", T.StringType(), False),
            T.StructField("view", T.StringType(), False),
            T.StructField("feature_ts", T.TimestampType(), False),
            T.StructField("snapshot_date", T.DateType(), False),
            T.StructField("delta_version", T.LongType(), False),
            T.StructField("definition_version", T.StringType(), False),
            T.StructField("row_count", T.LongType(), False),
            T.StructField("started_at", T.TimestampType(), False),
            T.StructField("live_at", T.TimestampType(), False),
            T.StructField("run_id", T.StringType(), False),
        ]
    )


#: Table properties set when the sync log is created. Its rows are few and always read
#: whole, so per-file column statistics buy nothing and only slow every append; fewer
#: checkpoints keep the cost of writing one out of most publishes (bench/README.md).
TABLE_PROPERTIES = {"delta.dataSkippingNumIndexedCols": "0", "delta.checkpointInterval": "50"}
#: Session settings for an append: no checksum file after each commit (it speeds up
#: loading big tables; this one is a few rows, and the checksum costs as much as the row).
APPEND_CONF = {"spark.databricks.delta.writeChecksumFile.enabled": "false"}


def append_sync_log(spark: SparkSession, settings: Settings, entry: SyncLogEntry) -> None:
    """Append one publish to the sync log (a blind Delta append; concurrent syncs are fine).

    The row is built from literals in the JVM: a DataFrame of Python rows would start a
    Python worker to unpickle one row, which costs more than the Delta commit itself.
    """
    from pyspark.sql import functions as F

    fields = sync_log_schema().fields
    row = [
        F.lit(value).cast(field.dataType).alias(field.name)
        for value, field in zip(astuple(entry), fields, strict=True)
    ]
    writer = spark.range(1).select(*row).write.format("delta").mode("append")
    path = sync_log_table(settings)
    if not table_exists(spark, path):
        writer = writer.options(**TABLE_PROPERTIES)
    with (
        delta_errors(
            f"{entry.view} {entry.snapshot_date} is live, but appending it to the sync log "
            "failed (the next sync of the view records it)",
            path,
        ),
        scoped_conf(spark, APPEND_CONF),
    ):
        writer.save(path)


def read_sync_log(spark: SparkSession, settings: Settings, view: str | None = None) -> DataFrame:
    """Publishes of ``settings.project`` (of one view if given); empty before the first.

    Args:
        spark: the session.
        settings: gives the table location and the project.
        view: keep only this view's publishes.

    Returns:
        A DataFrame with the sync log columns, in the table's column order.
    """
    from pyspark.sql import functions as F

    path = sync_log_table(settings)
    if not table_exists(spark, path):
        return spark.createDataFrame([], sync_log_schema())
    frame = spark.read.format("delta").load(path).where(F.col("project") == settings.project)
    if view is not None:
        frame = frame.where(F.col("view") == view)
    return frame.select(*sync_log_schema().fieldNames())


def has_entry(
    spark: SparkSession, settings: Settings, view: str, feature_ts: datetime, live_at: datetime
) -> bool:
    """Whether the publish of ``view`` that went live at ``live_at`` is already logged."""
    from pyspark.sql import functions as F

    rows = read_sync_log(spark, settings, view).where(
        (F.col("feature_ts") == F.lit(feature_ts)) & (F.col("live_at") == F.lit(live_at))
    )
    return bool(rows.limit(1).count())

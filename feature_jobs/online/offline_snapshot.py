"""Find and pin the offline snapshot of one view and date, as sync and check read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import PublishRefused
from feature_jobs.online.codec import datetime_to_micros, micros_to_datetime
from feature_jobs.settings import Settings
from feature_jobs.timeutil import day_start

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class OfflineSnapshot:
    """One snapshot of a view at a pinned Delta version.

    Attributes:
        frame: its rows (join keys and features), entities with a null key left out.
        delta_version: the offline table version the rows are read at.
        feature_ts: the snapshot time.
        rows: number of rows in ``frame``.
        definition_version: the definition version that computed it.
    """

    frame: DataFrame
    delta_version: int
    feature_ts: datetime
    rows: int
    definition_version: str


def pinned_snapshot(
    spark: SparkSession, settings: Settings, view: FeatureView, day: date
) -> OfflineSnapshot:
    """The latest snapshot of ``view`` for logical date ``day`` at the table's current version.

    Raises:
        PublishRefused: no offline table, no snapshot for the date, or one computed by
            other definitions than the current ones (publishing it would be skew).
    """
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    path = settings.offline_path(view.name)
    if not DeltaTable.isDeltaTable(spark, path):
        raise PublishRefused(
            f"no offline table for view {view.name} at {path}; run `python -m feature_jobs "
            f"materialize --view {view.name} --date {day}` first"
        )
    version = int(DeltaTable.forPath(spark, path).history(1).select("version").collect()[0][0])
    table = spark.read.format("delta").option("versionAsOf", version).load(path)
    not_null = F.lit(True)
    for key in view.keys:
        not_null = not_null & F.col(key).isNotNull()
    day_rows = table.where((F.col("snapshot_date") == F.lit(day)) & not_null)
    # One small aggregate: the snapshots stored under the date and who computed them.
    # Times travel as epoch microseconds: collected timestamps would come back naive.
    ts_us = F.unix_micros(F.col("feature_ts"))
    groups = day_rows.groupBy(ts_us.alias("ts_us"), "definition_version").count().collect()
    last_boundary = datetime_to_micros(day_start(day) + timedelta(days=1))
    times = [int(r["ts_us"]) for r in groups if r["ts_us"] <= last_boundary]
    if not times:
        raise PublishRefused(
            f"offline/{view.name} has no snapshot for {day} (table version {version}); run "
            f"`python -m feature_jobs materialize --view {view.name} --date {day}` first"
        )
    chosen_us = max(times)
    chosen = [r for r in groups if r["ts_us"] == chosen_us]
    versions = sorted({r["definition_version"] for r in chosen})
    if versions != [view.version]:
        raise PublishRefused(
            f"the {day} snapshot of {view.name} was computed by definition version "
            f"{', '.join(versions)} but the definitions are now {view.version}; re-run "
            f"materialize for {day} before syncing"
        )
    columns = [*view.keys, *(f.name for f in view.features)]
    frame = day_rows.where(ts_us == F.lit(chosen_us)).select(*columns)
    return OfflineSnapshot(
        frame=frame,
        delta_version=version,
        feature_ts=micros_to_datetime(chosen_us),
        rows=sum(int(r["count"]) for r in chosen),
        definition_version=view.version,
    )


def latest_snapshot_date(spark: SparkSession, settings: Settings, view: FeatureView) -> date:
    """The newest ``snapshot_date`` in the offline table of ``view``."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    path = settings.offline_path(view.name)
    if not DeltaTable.isDeltaTable(spark, path):
        raise PublishRefused(
            f"no offline table for view {view.name} at {path}; run materialize first"
        )
    latest = spark.read.format("delta").load(path).agg(F.max("snapshot_date")).collect()[0][0]
    if latest is None:
        raise PublishRefused(f"offline/{view.name} is empty; run materialize first")
    return latest  # type: ignore[no-any-return]

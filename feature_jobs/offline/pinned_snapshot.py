"""Find and pin the offline snapshot of one view and date, as sync and check read it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import OfflineStoreError, PublishRefused
from feature_jobs.offline.layout import table_exists, view_table
from feature_jobs.offline.versions import current_version
from feature_jobs.online.codec import datetime_to_micros, micros_to_datetime
from feature_jobs.settings import Settings
from feature_jobs.spark.jvm_errors import delta_errors
from feature_jobs.spark.scan_tasks import one_task_per_core
from feature_jobs.spark.scoped_conf import scoped_conf
from feature_jobs.spark.stats_skipping import stats_skipping_off
from feature_jobs.timeutil import day_start

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class OfflineSnapshot:
    """One snapshot of a view at a pinned Delta version (nothing is read yet).

    Attributes:
        frame: its rows: join keys, features and ``definition_version``; entities with a
            null key are left out.
        delta_version: the offline table version the rows are read at.
        feature_ts: the snapshot time.
        table: where the offline table is (named in errors).
        whole_partition: the snapshot is its whole ``snapshot_date`` partition (a daily
            view), so Delta's statistics cannot skip any file and are not consulted.
    """

    frame: DataFrame
    delta_version: int
    feature_ts: datetime
    table: str
    whole_partition: bool = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The block runs the queries that read this snapshot (see :mod:`stats_skipping`)."""
        spark = self.frame.sparkSession
        with (
            stats_skipping_off(spark, self.whole_partition),
            scoped_conf(spark, one_task_per_core(spark)),
        ):
            yield


@dataclass(frozen=True)
class SnapshotStats:
    """Row count and the definition versions that computed a snapshot's rows."""

    rows: int
    definition_versions: tuple[str, ...]


def open_snapshot(
    spark: SparkSession, settings: Settings, view: FeatureView, day: date
) -> OfflineSnapshot:
    """The latest snapshot of ``view`` for logical date ``day`` at the table's current version.

    A daily view's snapshot time is known (D+1 00:00 UTC), so nothing is scanned here; an
    hourly view's is the latest one stored under the date (one small aggregate).

    Raises:
        PublishRefused: no offline table, or (hourly) no snapshot for the date.
    """
    from pyspark.sql import functions as F

    path = view_table(settings, view.name)
    if not table_exists(spark, path):
        raise PublishRefused(
            f"no offline table for view {view.name} at {path}; run `python -m feature_jobs "
            f"materialize --view {view.name} --date {day}` first"
        )
    with delta_errors(f"reading the {day} snapshot of {view.name} from {path} failed", path):
        version = current_version(spark, path)
        table = spark.read.format("delta").option("versionAsOf", version).load(path)
    not_null = F.lit(True)
    for key in view.keys:
        not_null = not_null & F.col(key).isNotNull()
    day_rows = table.where((F.col("snapshot_date") == F.lit(day)) & not_null)
    # Times travel as epoch microseconds: collected timestamps would come back naive.
    ts_us = F.unix_micros(F.col("feature_ts"))
    last_boundary = datetime_to_micros(day_start(day) + timedelta(days=1))
    chosen_us = last_boundary
    if view.cadence != "daily":
        latest = day_rows.where(ts_us <= F.lit(last_boundary)).agg(F.max(ts_us)).collect()[0][0]
        if latest is None:
            raise PublishRefused(_no_snapshot(view, day, version))
        chosen_us = int(latest)
    columns = [*view.keys, *(f.name for f in view.features), "definition_version"]
    return OfflineSnapshot(
        frame=day_rows.where(ts_us == F.lit(chosen_us)).select(*columns),
        delta_version=version,
        feature_ts=micros_to_datetime(chosen_us),
        table=path,
        whole_partition=view.cadence == "daily",
    )


def snapshot_stats(snapshot: OfflineSnapshot) -> SnapshotStats:
    """Count the snapshot's rows per definition version (one aggregate job)."""
    with snapshot.reading():
        groups = snapshot.frame.groupBy("definition_version").count().collect()
    return SnapshotStats(
        rows=sum(int(r["count"]) for r in groups),
        definition_versions=tuple(sorted(str(r["definition_version"]) for r in groups)),
    )


def require_unique_keys(view: FeatureView, day: date, snapshot: OfflineSnapshot) -> None:
    """Refuse a snapshot that holds some entity more than once (one aggregate job).

    Each snapshot replaces its rows in one Delta commit, so a repeated key means the table's
    log lost the ``remove`` actions of a replaced snapshot (a damaged commit file): the old
    rows are visible beside the new ones. Publishing would serve one of them at random.

    Raises:
        OfflineStoreError: naming the view, date, table version and how many keys repeat.
    """
    from pyspark.sql import functions as F

    with snapshot.reading():
        per_key = snapshot.frame.groupBy(*view.keys).count()
        row = per_key.agg(
            F.sum("count").alias("rows"),
            F.count(F.lit(1)).alias("keys"),
            F.count(F.when(F.col("count") > 1, 1)).alias("repeated"),
        ).first()
    if row is None or not row["repeated"]:
        return
    raise OfflineStoreError(
        f"the {day} snapshot of {view.name} in {snapshot.table} (Delta version "
        f"{snapshot.delta_version}) holds {row['repeated']} key(s) more than once "
        f"({row['rows']} rows for {row['keys']} keys): a commit of the table lost the removal "
        "of the rows it replaced; nothing was published - re-run `python -m feature_jobs "
        f"materialize --view {view.name} --date {day}` to replace them, then sync"
    )


def require_publishable(
    view: FeatureView, day: date, delta_version: int, rows: int, versions: tuple[str, ...]
) -> None:
    """Refuse an empty snapshot, or one computed by other definitions than the current ones.

    Raises:
        PublishRefused: naming the date and how to fix it.
    """
    if rows == 0:
        raise PublishRefused(_no_snapshot(view, day, delta_version))
    if versions != (view.version,):
        raise PublishRefused(
            f"the {day} snapshot of {view.name} was computed by definition version "
            f"{', '.join(versions)} but the definitions are now {view.version}; re-run "
            f"materialize for {day} before syncing"
        )


def _no_snapshot(view: FeatureView, day: date, version: int) -> str:
    return (
        f"offline/{view.name} has no snapshot for {day} (table version {version}); run "
        f"`python -m feature_jobs materialize --view {view.name} --date {day}` first"
    )

"""Test helpers: offline tables, sync-log rows and spines written in the shared layouts."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from feature_jobs.definitions import FeatureRef, FeatureView, build_registry
from feature_jobs.definitions.registry import Registry
from feature_jobs.offline import SyncLogEntry, append_sync_log, last_commit, view_table
from feature_jobs.settings import Settings
from feature_jobs.timeutil import logical_date
from feature_jobs.training import TrainingSetRequest, TrainingSetResult, build_training_set
from feature_jobs.training.local.engine import build_locally
from feature_jobs.training.paths import manifest_path
from tests.training import defs
from tests.training.pit_oracle import OracleView, Snapshot

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SPARK = {"string": T.StringType(), "long": T.LongType(), "double": T.DoubleType()}


def utc(*parts: int) -> datetime:
    """A UTC datetime."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def registry() -> Registry:
    """The test definitions."""
    return build_registry([defs.shop_daily, defs.shop_hourly, defs.pair_daily, defs.everything])


def oracle_view(view: FeatureView) -> OracleView:
    """The oracle's picture of a view (its snapshots are filled by the writers below)."""
    return OracleView(
        name=view.name,
        keys=view.keys,
        defaults={f.name: f.effective_default() for f in view.features},
        max_age=view.max_age_delta,
        on_stale=view.on_stale,
    )


def offline_frame(
    spark: SparkSession, view: FeatureView, snapshots: dict[datetime, Snapshot]
) -> DataFrame:
    """Rows of several snapshots in the offline layout (keys, features, bookkeeping)."""
    fields = [T.StructField(k, SPARK[t], False) for k, t in view.entity.join_keys.items()]
    fields += [T.StructField(f.name, SPARK[view.output_type(f.name)], True) for f in view.features]
    fields += [
        T.StructField("feature_ts", T.TimestampType(), False),
        T.StructField("snapshot_date", T.DateType(), False),
        T.StructField("definition_version", T.StringType(), False),
        T.StructField("run_id", T.StringType(), False),
        T.StructField("materialized_at", T.TimestampType(), False),
    ]
    rows = []
    for feature_ts, snapshot in snapshots.items():
        day: date = logical_date(feature_ts)
        for keys, values in snapshot.items():
            rows.append(
                (
                    *keys,
                    *[values.get(f.name) for f in view.features],
                    feature_ts,
                    day,
                    view.version,
                    "test-run",
                    feature_ts + timedelta(minutes=5),
                )
            )
    return spark.createDataFrame(rows, T.StructType(fields))


def write_offline(
    spark: SparkSession, settings: Settings, view: FeatureView, snapshots: dict[datetime, Snapshot]
) -> int:
    """Append snapshots to ``offline/<view>`` in one Delta commit; returns its version."""
    path = view_table(settings, view.name)
    offline_frame(spark, view, snapshots).write.format("delta").mode("append").partitionBy(
        "snapshot_date"
    ).save(path)
    return _version(spark, path)


def replace_snapshot(
    spark: SparkSession, settings: Settings, view: FeatureView, feature_ts: datetime, rows: Snapshot
) -> int:
    """Replace one snapshot in one commit (a backfill or late-data correction)."""
    path = view_table(settings, view.name)
    literal = feature_ts.strftime("%Y-%m-%d %H:%M:%S")
    offline_frame(spark, view, {feature_ts: rows}).write.format("delta").mode("overwrite").option(
        "replaceWhere", f"feature_ts = TIMESTAMP '{literal}'"
    ).save(path)
    return _version(spark, path)


def log_publish(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    feature_ts: datetime,
    delta_version: int,
    live_at: datetime,
) -> None:
    """Append one publish to the sync log, as the online store's sync does."""
    entry = SyncLogEntry(
        project=settings.project,
        view=view.name,
        feature_ts=feature_ts,
        snapshot_date=logical_date(feature_ts),
        delta_version=delta_version,
        definition_version=view.version,
        row_count=0,
        started_at=live_at - timedelta(seconds=30),
        live_at=live_at,
        run_id="sync-test",
    )
    append_sync_log(spark, settings, entry)


def write_spine(
    spark: SparkSession, path: Path, rows: list[tuple[Any, ...]], ddl: str, fmt: str = "parquet"
) -> Path:
    """Write a spine (single file, so its row order is the read order)."""
    frame = spark.createDataFrame(rows, ddl).coalesce(1)
    if fmt == "csv":
        frame.write.option("header", True).csv(str(path))
    else:
        frame.write.format(fmt).save(str(path))
    return path


def _version(spark: SparkSession, path: str) -> int:
    return last_commit(spark, path).version


def build(
    spark: SparkSession,
    settings: Settings,
    spine: Path,
    features: list[str],
    name: str,
    mode: str = "event-time",
    keep_spine_order: bool = True,
    also_local: bool = True,
) -> tuple[TrainingSetResult, list[dict[str, Any]]]:
    """Build a training set of ``features`` into ``<data_root>/<name>`` and read it back.

    Rows come back in file order (the spine's, unless ``keep_spine_order`` is False),
    timestamps as epoch microseconds (no Python time zone). With ``also_local``, the
    local engine builds it too (into ``<name>_local``), and must give the same rows,
    checksum, statuses, leakage and manifest: every oracle test is a differential test.
    """
    output = settings.data_root / name
    request = TrainingSetRequest(
        spine=spine,
        spine_format="parquet",
        timestamp_column="ts",
        features=tuple(FeatureRef.parse(f) for f in features),
        output=output,
        mode=mode,  # type: ignore[arg-type]
        keep_spine_order=keep_spine_order,
    )
    result = build_training_set(spark, settings, registry(), request)
    rows = collect_micros(spark.read.parquet(str(output)))
    if also_local:
        local_request = dataclasses.replace(request, output=settings.data_root / f"{name}_local")
        local = build_locally(settings, registry(), local_request)
        assert_same_build(spark, result, local, keep_spine_order)
    return result, rows


def assert_same_build(
    spark: SparkSession, spark_result: TrainingSetResult, local: TrainingSetResult, ordered: bool
) -> None:
    """The local engine built what the Spark engine built: rows, checksum, manifest."""
    assert local.engine == "local"
    assert (local.rows, local.checksum) == (spark_result.rows, spark_result.checksum)
    assert local.status_counts == spark_result.status_counts
    assert local.leakage == spark_result.leakage
    spark_rows = collect_micros(spark.read.parquet(str(spark_result.output)))
    local_rows = collect_micros(spark.read.parquet(str(local.output)))
    if not ordered:  # the local engine always writes in spine order; Spark may not
        spark_rows, local_rows = sorted(spark_rows, key=repr), sorted(local_rows, key=repr)
    assert [_comparable(r) for r in local_rows] == [_comparable(r) for r in spark_rows]
    volatile = {"created_at", "seconds", "engine"}
    manifests = [json.loads(manifest_path(r.output).read_text()) for r in (spark_result, local)]
    for document in manifests:
        document["output"].pop("path")
        for key in volatile:
            document.pop(key)
    assert manifests[1] == manifests[0]


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    # NaN != NaN; both engines must still agree on where a NaN is.
    return {k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


def collect_micros(df: DataFrame) -> list[dict[str, Any]]:
    """Collect a small frame with timestamps as epoch microseconds."""
    from pyspark.sql import functions as F

    stamped = df.select(
        *[F.unix_micros(c).alias(c) if t == "timestamp" else F.col(c) for c, t in df.dtypes]
    )
    return [row.asDict() for row in stamped.collect()]


def micros(value: datetime | None) -> int | None:
    """Epoch microseconds of an aware datetime (None stays None)."""
    return None if value is None else (value - EPOCH) // timedelta(microseconds=1)

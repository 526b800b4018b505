"""A view's offline table: snapshot writes replace exactly what they cover, in one commit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from pyspark.sql import DataFrame, SparkSession

from feature_jobs.definitions import Entity, Feature, FeatureView, Source
from feature_jobs.errors import OfflineStoreError, PublishRefused, TrainingSetError
from feature_jobs.offline import (
    BOOKKEEPING_COLUMNS,
    current_version,
    last_commit,
    last_snapshot_date,
    latest_snapshot_date,
    pin_version,
    read_offline,
    read_snapshot,
    read_version,
    table_exists,
    table_may_exist,
    view_table,
    with_bookkeeping,
    write_snapshot,
    write_snapshots,
)
from feature_jobs.settings import Settings
from feature_jobs.timeutil import day_start

VIEW = FeatureView(
    name="spend",
    entity=Entity(name="user", join_keys={"user_id": "long"}),
    source=Source(
        name="tx",
        path="raw/tx",
        schema={
            "tx_id": "string",
            "user_id": "long",
            "amount": "double",
            "event_ts": "timestamp",
            "ingested_ts": "timestamp",
        },
        timestamp_column="event_ts",
        ingestion_timestamp_column="ingested_ts",
        dedup_key=["tx_id"],
    ),
    owner="tests",
    features=[Feature(name="spend_7d", function="sum", column="amount", window="7d")],
)
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)


def snapshot_ts(day: date) -> datetime:
    return day_start(day) + timedelta(days=1)


def rows(spark: SparkSession, day: date, spend: dict[int, float], run_id: str = "r1") -> DataFrame:
    """The snapshot of ``day`` in the offline layout: one row per user."""
    ts = snapshot_ts(day)
    frame = spark.createDataFrame(
        [(user, value, ts) for user, value in spend.items()],
        "user_id BIGINT, spend_7d DOUBLE, feature_ts TIMESTAMP",
    )
    return with_bookkeeping(frame, VIEW, run_id, ts)


def stored(spark: SparkSession, settings: Settings) -> dict[tuple[date, int], float]:
    table = read_offline(spark, settings, VIEW).collect()
    return {(r["snapshot_date"], r["user_id"]): r["spend_7d"] for r in table}


def test_the_layout_is_keys_features_then_bookkeeping(spark: SparkSession) -> None:
    assert rows(spark, D1, {1: 1.0}).columns == ["user_id", "spend_7d", *BOOKKEEPING_COLUMNS]


def test_a_snapshot_write_replaces_only_its_own_snapshot(
    spark: SparkSession, settings: Settings
) -> None:
    assert not table_may_exist(settings, VIEW.name)
    assert last_snapshot_date(spark, settings, VIEW) is None
    with pytest.raises(PublishRefused, match="no offline table for view spend"):
        latest_snapshot_date(spark, settings, VIEW)

    first = write_snapshot(
        spark, settings, VIEW, rows(spark, D1, {1: 1.0, 2: 2.0}), snapshot_ts(D1), "r1"
    )
    second = write_snapshot(spark, settings, VIEW, rows(spark, D2, {1: 3.0}), snapshot_ts(D2), "r1")
    # A re-run with corrected input swaps the rows of D1 and leaves D2 as it was.
    again = write_snapshot(spark, settings, VIEW, rows(spark, D1, {2: 9.0}), snapshot_ts(D1), "r2")

    assert (first.version, second.version, again.version) == (0, 1, 2)
    assert (first.rows, again.rows) == (2, 1)
    assert last_commit(spark, view_table(settings, VIEW.name)).version == 2
    assert stored(spark, settings) == {(D1, 2): 9.0, (D2, 1): 3.0}
    assert [
        r["user_id"] for r in read_snapshot(spark, settings, VIEW, snapshot_ts(D2)).collect()
    ] == [1]
    assert table_may_exist(settings, VIEW.name)
    assert table_exists(spark, view_table(settings, VIEW.name))
    assert last_snapshot_date(spark, settings, VIEW) == D2
    assert latest_snapshot_date(spark, settings, VIEW) == D2


def test_a_range_write_replaces_exactly_its_snapshots_in_one_commit(
    spark: SparkSession, settings: Settings
) -> None:
    three = (
        rows(spark, D1, {1: 1.0})
        .unionByName(rows(spark, D2, {1: 2.0}))
        .unionByName(rows(spark, D3, {1: 3.0}))
    )
    created = write_snapshots(
        spark, settings, VIEW, three, [snapshot_ts(d) for d in (D1, D2, D3)], "r1"
    )
    # D2 gets new rows, D3 none (it is emptied), D1 is outside the range and stays.
    replaced = write_snapshots(
        spark,
        settings,
        VIEW,
        rows(spark, D2, {1: 20.0, 2: 21.0}),
        [snapshot_ts(D3), snapshot_ts(D2)],
        "r2",
    )

    assert (created.version, replaced.version) == (0, 1)
    assert stored(spark, settings) == {(D1, 1): 1.0, (D2, 1): 20.0, (D2, 2): 21.0}


def test_a_range_write_refuses_rows_outside_its_dates(
    spark: SparkSession, settings: Settings
) -> None:
    write_snapshots(spark, settings, VIEW, rows(spark, D1, {1: 1.0}), [snapshot_ts(D1)], "r1")
    stray = rows(spark, D2, {1: 2.0}).unionByName(rows(spark, D3, {1: 3.0}))

    with pytest.raises(
        OfflineStoreError,
        match=r"snapshot at 2024-03-03T00:00:00\+00:00 to .* nothing was committed.*violated",
    ):
        write_snapshots(spark, settings, VIEW, stray, [snapshot_ts(D2)], "r2")
    assert stored(spark, settings) == {(D1, 1): 1.0}
    with pytest.raises(ValueError, match="at least one date"):
        write_snapshots(spark, settings, VIEW, stray, [], "r2")


def test_a_pinned_read_sees_its_version_after_later_writes(
    spark: SparkSession, settings: Settings
) -> None:
    path = view_table(settings, VIEW.name)
    with pytest.raises(TrainingSetError, match="has no Delta table"):
        pin_version(spark, path, "view spend")

    write_snapshot(spark, settings, VIEW, rows(spark, D1, {1: 1.0}), snapshot_ts(D1), "r1")
    pinned = pin_version(spark, path, "view spend")
    write_snapshot(spark, settings, VIEW, rows(spark, D1, {1: 5.0}), snapshot_ts(D1), "r2")

    assert (pinned, current_version(spark, path)) == (0, 1)
    old = read_version(spark, path, pinned, "view spend").collect()
    assert [(r["user_id"], r["spend_7d"]) for r in old] == [(1, 1.0)]


def test_a_vacuumed_version_is_refused_not_replaced_by_newer_data(
    spark: SparkSession, settings: Settings
) -> None:
    path = view_table(settings, VIEW.name)
    write_snapshot(spark, settings, VIEW, rows(spark, D1, {1: 1.0}), snapshot_ts(D1), "r1")
    write_snapshot(spark, settings, VIEW, rows(spark, D1, {1: 5.0}), snapshot_ts(D1), "r2")
    # What VACUUM does to a superseded version: its data files go, its log entry stays.
    for uri in read_version(spark, path, 0, "view spend").inputFiles():
        Path(urlparse(uri).path).unlink()

    with pytest.raises(TrainingSetError, match="was vacuumed"):
        read_version(spark, path, 0, "view spend")
    assert len(read_version(spark, path, 1, "view spend").collect()) == 1

"""Round trip: a synced snapshot reads back equal to Delta; the serving rule is applied."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from pyspark.sql import functions as F

from feature_jobs.offline import read_sync_log, view_table
from feature_jobs.online.sync import sync
from feature_jobs.serving_rule import Status
from tests.online.offline import snapshot_ts, write_snapshot
from tests.online.views import user_stats, user_stats_reject, user_stats_serve

DAY = date(2024, 3, 1)
FEATURES = [f"user_stats:{f.name}" for f in user_stats.features]
TRICKY_DOUBLES = [0.1, 1e-300, -0.0, 2.0**53 + 2, 1 / 3, 123456.789, -1e308, math.nan]


def user_rows(n: int) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        rows.append(
            {
                "user_id": i if i % 7 else -(2**62) - i,
                "txn_count_7d": i * 2**40,
                "amount_sum_7d": TRICKY_DOUBLES[i % len(TRICKY_DOUBLES)] if i % 5 else None,
                "last_country": ["FR", "日本", "a:b\n*", None][i % 4],
                "any_flagged_7d": [True, False, None][i % 3],
                "last_event_ts": datetime(2024, 2, 28, 13, 5, 7, i, tzinfo=UTC) if i % 2 else None,
            }
        )
    return rows


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return type(a) is type(b) and a == b


def test_every_entity_reads_back_equal_to_delta(spark, online_settings, store_factory):
    version = write_snapshot(spark, online_settings, user_stats, DAY, user_rows(40))
    result = sync(spark, online_settings, user_stats, DAY)
    assert result.published and result.rows == 40 and result.delta_version == version
    assert result.feature_ts == snapshot_ts(DAY)

    # Expected values come from Delta itself (the small test table, read back).
    offline = (
        spark.read.format("delta")
        .load(view_table(online_settings, "user_stats"))
        .select("user_id", *(F.col(f.name) for f in user_stats.features))
        .withColumn("ts_us", F.unix_micros("last_event_ts"))
        .collect()
    )
    store = store_factory()
    entities = [{"user_id": row["user_id"]} for row in offline]
    response = store.get_online_features(FEATURES, entities)
    assert len(response) == 40
    for i, row in enumerate(offline):
        for feature in user_stats.features:
            served = response.get(i, f"user_stats:{feature.name}")
            expected = row[feature.name]
            if feature.name == "last_event_ts" and expected is not None:
                expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=row["ts_us"])
            if expected is None:
                expected = feature.effective_default()
            assert served.status is Status.PRESENT
            assert served.feature_ts == snapshot_ts(DAY)
            assert same(served.value, expected), (row["user_id"], feature.name, served, expected)


def test_absent_entity_gets_defaults_and_missing(spark, online_settings, store_factory):
    write_snapshot(spark, online_settings, user_stats, DAY, user_rows(3))
    sync(spark, online_settings, user_stats, DAY)
    response = store_factory().get_online_features(FEATURES, [{"user_id": 999_999}])
    assert response.values[0] == [0, -1.0, "??", None, None]
    assert response.statuses[0] == [Status.MISSING] * 5
    assert response.feature_ts[0] == [snapshot_ts(DAY)] * 5


def test_view_never_synced_is_missing_without_snapshot(online_settings, store_factory):
    response = store_factory().get_online_features(FEATURES, [{"user_id": 1}])
    assert response.values[0] == [0, -1.0, "??", None, None]
    assert response.statuses[0] == [Status.MISSING] * 5
    assert response.feature_ts[0] == [None] * 5


def test_on_stale_default_reject_serve(spark, online_settings, store_factory, clock):
    rows = [{"user_id": 1, "txn_count_7d": 5, "amount_sum_7d": 12.5}]
    for view in (user_stats, user_stats_reject, user_stats_serve):
        write_snapshot(spark, online_settings, view, DAY, rows)
        assert sync(spark, online_settings, view, DAY).published
    store = store_factory()
    refs = [
        "user_stats:txn_count_7d",
        "user_stats:amount_sum_7d",
        "user_stats_reject:txn_count_7d",
        "user_stats_reject:amount_sum_7d",
        "user_stats_serve:txn_count_7d",
        "user_stats_serve:amount_sum_7d",
    ]
    entities = [{"user_id": 1}, {"user_id": 2}]
    published = snapshot_ts(DAY)

    clock.now = published + timedelta(days=1)  # exactly max_age for the 1d views: fresh
    fresh = store.get_online_features(refs, entities)
    assert fresh.values[0] == [5, 12.5] * 3
    assert fresh.statuses[0] == [Status.PRESENT] * 6
    assert fresh.statuses[1] == [Status.MISSING] * 6

    clock.now = published + timedelta(days=1, seconds=1)  # 1d views stale, 2d view fresh
    later = store.get_online_features(refs, entities)
    assert later.values[0] == [5, 12.5, None, None, 5, 12.5]
    assert later.statuses[0] == [Status.PRESENT] * 2 + [Status.STALE] * 4
    assert later.values[1] == [0, -1.0, None, None, 0, -1.0]
    assert later.statuses[1] == [Status.MISSING] * 2 + [Status.STALE] * 4

    clock.now = published + timedelta(days=2, seconds=1)  # the on_stale=default view too
    old = store.get_online_features(refs[:2], entities)
    assert old.values == [[0, -1.0], [0, -1.0]]
    assert old.statuses == [[Status.STALE] * 2] * 2
    assert old.feature_ts[0] == [published] * 2


def test_sync_log_records_the_publish(spark, online_settings):
    version = write_snapshot(spark, online_settings, user_stats, DAY, user_rows(5))
    result = sync(spark, online_settings, user_stats, DAY, run_id="run-42")
    log = read_sync_log(spark, online_settings, "user_stats").collect()
    assert len(log) == 1
    row = log[0].asDict()
    assert list(row) == [
        "project", "view", "feature_ts", "snapshot_date", "delta_version",
        "definition_version", "row_count", "started_at", "live_at", "run_id",
    ]  # fmt: skip
    assert row["project"] == online_settings.project and row["view"] == "user_stats"
    assert row["snapshot_date"] == DAY and row["delta_version"] == version
    assert row["definition_version"] == user_stats.version and row["row_count"] == 5
    assert row["run_id"] == "run-42"
    assert result.live_at is not None
    assert row["live_at"].replace(tzinfo=UTC) == result.live_at.replace(
        microsecond=result.live_at.microsecond
    )
    assert read_sync_log(spark, online_settings, "other_view").count() == 0


def test_hourly_view_publishes_the_latest_snapshot_of_the_date(
    spark, online_settings, store_factory, clock
):
    from tests.online.views import user_hourly

    five, six = (datetime(2024, 3, 1, h, tzinfo=UTC) for h in (5, 6))
    for feature_ts, count in ((six, 6), (five, 5)):  # the later one written first
        rows = [{"user_id": 1, "txn_count_6h": count}]
        write_snapshot(spark, online_settings, user_hourly, DAY, rows, feature_ts=feature_ts)
    result = sync(spark, online_settings, user_hourly, DAY)
    assert result.feature_ts == six and result.rows == 1
    clock.now = six + timedelta(hours=3)  # exactly max_age: fresh
    response = store_factory().get_online_features(["user_hourly:txn_count_6h"], [{"user_id": 1}])
    assert response.values == [[6]] and response.statuses == [[Status.PRESENT]]
    clock.now = six + timedelta(hours=3, seconds=1)
    stale = store_factory().get_online_features(["user_hourly:txn_count_6h"], [{"user_id": 1}])
    assert stale.values == [[0]] and stale.statuses == [[Status.STALE]]


def test_a_reader_whose_clock_is_behind_the_snapshot_is_not_served_it(
    spark, online_settings, store_factory, clock
):
    """Negative age: a snapshot whose feature_ts is after the reader's now is not valid yet
    (the training join at ts=now would not use it); the read is MISSING with defaults."""
    rows = [{"user_id": 1, "txn_count_7d": 5, "amount_sum_7d": 12.5}]
    write_snapshot(spark, online_settings, user_stats, DAY, rows)
    assert sync(spark, online_settings, user_stats, DAY).published
    store = store_factory()
    refs = ["user_stats:txn_count_7d", "user_stats:amount_sum_7d"]
    published = snapshot_ts(DAY)

    clock.now = published - timedelta(microseconds=1)
    early = store.get_online_features(refs, [{"user_id": 1}])
    assert early.values[0] == [0, -1.0]  # the defaults
    assert early.statuses[0] == [Status.MISSING] * 2
    assert early.feature_ts[0] == [None, None]

    clock.now = published  # age zero: served
    on_time = store.get_online_features(refs, [{"user_id": 1}])
    assert on_time.values[0] == [5, 12.5]
    assert on_time.statuses[0] == [Status.PRESENT] * 2
    assert on_time.feature_ts[0] == [published] * 2

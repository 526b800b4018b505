"""Publishing rules: no regression by backfills, re-runs replace, orphans and old data go."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from feature_jobs.errors import PublishRefused
from feature_jobs.offline import read_sync_log
from feature_jobs.online.codec import RowCodec
from feature_jobs.online.keys import data_prefix, encode_entity, live_key, new_token, snaps_key
from feature_jobs.online.publish import SnapshotMeta, go_live, read_live, register
from feature_jobs.online.sync import reconcile_sync_log, sync
from feature_jobs.online.writer import write_batch
from feature_jobs.serving_rule import Status
from tests.online.offline import snapshot_ts, write_snapshot
from tests.online.views import user_stats

D1, D2 = date(2024, 3, 1), date(2024, 3, 2)
REF = ["user_stats:txn_count_7d"]


def rows(generation: int, n: int = 20) -> list[dict[str, int]]:
    return [{"user_id": i, "txn_count_7d": generation * 1000 + i} for i in range(n)]


def served(store, n: int = 20) -> list[int]:
    response = store.get_online_features(REF, [{"user_id": i} for i in range(n)])
    return [v[0] for v in response.values]


def test_backfill_of_an_older_date_does_not_touch_what_is_served(
    spark, online_settings, store_factory, client, clock
):
    clock.now = snapshot_ts(D2) + timedelta(hours=1)  # a reader after D2's snapshot time
    write_snapshot(spark, online_settings, user_stats, D2, rows(2))
    assert sync(spark, online_settings, user_stats, D2).published
    write_snapshot(spark, online_settings, user_stats, D1, rows(1))
    backfill = sync(spark, online_settings, user_stats, D1)
    assert not backfill.published and "is newer" in backfill.reason
    store = store_factory()
    assert served(store) == [2000 + i for i in range(20)]
    assert store.get_online_features(REF, [{"user_id": 0}]).feature_ts[0][0] == snapshot_ts(D2)
    log = read_sync_log(spark, online_settings, "user_stats").collect()
    assert [r["snapshot_date"] for r in log] == [D2]
    # Only the live snapshot is registered: the refused backfill wrote nothing.
    registered = client.zrange(snaps_key(online_settings.project, "user_stats"), 0, -1)
    assert len(registered) == 1


def test_go_live_refuses_to_move_the_pointer_backwards(spark, online_settings, client):
    write_snapshot(spark, online_settings, user_stats, D2, rows(2))
    live = sync(spark, online_settings, user_stats, D2)
    project = online_settings.project
    # A slower sync of D1 that reaches its swap after D2 went live (the race path).
    old = SnapshotMeta(
        token=new_token(snapshot_ts(D1)), feature_ts=snapshot_ts(D1), snapshot_date=D1,
        buckets=1, columns=("txn_count_7d",), types=("long",), delta_version=99,
        definition_version=user_stats.version, run_id="slow", rows=0,
        started_at=datetime.now(UTC),
    )  # fmt: skip
    register(client, project, "user_stats", old, timedelta(days=1))
    outcome = go_live(client, project, "user_stats", old.token, timedelta(days=1))
    assert outcome.status == "newer" and outcome.previous_token == live.token
    pointer = read_live(client, project, "user_stats")
    assert pointer is not None and pointer.meta.token == live.token


def test_rerun_replaces_and_superseded_snapshot_expires(
    spark, online_settings, store_factory, client
):
    write_snapshot(spark, online_settings, user_stats, D1, rows(1))
    first = sync(spark, online_settings, user_stats, D1)
    old_keys = list(client.scan_iter(match=f"*{first.token}*"))
    assert len(old_keys) == 2  # its metadata and its one bucket
    write_snapshot(spark, online_settings, user_stats, D1, rows(3))  # corrected input
    second = sync(spark, online_settings, user_stats, D1, grace=timedelta(seconds=3))
    retired_at = time.monotonic()
    assert second.published and second.delta_version > first.delta_version
    assert served(store_factory()) == [3000 + i for i in range(20)]
    # The superseded keys got the grace TTL (or already expired), not the 14-day one.
    assert all(client.pttl(k) <= 3000 for k in old_keys)
    time.sleep(max(0.0, 3.2 - (time.monotonic() - retired_at)))
    assert not any(client.exists(k) for k in old_keys)
    assert len(read_sync_log(spark, online_settings, "user_stats").collect()) == 2


def test_orphan_of_a_crashed_sync_is_invisible_then_retired(
    spark, online_settings, store_factory, client, clock
):
    project = online_settings.project
    write_snapshot(spark, online_settings, user_stats, D1, rows(1))
    sync(spark, online_settings, user_stats, D1)
    # A crashed sync of D2: registered, half written, never live.
    orphan = SnapshotMeta(
        token=new_token(snapshot_ts(D2)), feature_ts=snapshot_ts(D2), snapshot_date=D2,
        buckets=1, columns=("txn_count_7d",), types=("long",), delta_version=5,
        definition_version=user_stats.version, run_id="crashed", rows=20,
        started_at=datetime.now(UTC) - timedelta(hours=2),
    )  # fmt: skip
    register(client, project, "user_stats", orphan, timedelta(days=1))
    fields = [encode_entity([i]) for i in range(10)]
    write_batch(
        client, data_prefix(project, "user_stats", orphan.token), 1, fields,
        RowCodec.for_types(["long"]).encode([pa.array([-1] * 10)]), 60_000,
    )  # fmt: skip
    store = store_factory()
    assert served(store) == [1000 + i for i in range(20)]
    # The next publish retires the orphan (registered more than an hour ago).
    write_snapshot(spark, online_settings, user_stats, D2, rows(2))
    result = sync(spark, online_settings, user_stats, D2, grace=timedelta(milliseconds=1))
    clock.now = snapshot_ts(D2) + timedelta(hours=1)  # read once D2's snapshot time passed
    assert result.published and served(store) == [2000 + i for i in range(20)]
    time.sleep(0.05)
    assert not list(client.scan_iter(match=f"*{orphan.token}*"))
    assert client.zrange(snaps_key(project, "user_stats"), 0, -1) == [result.token.encode()]


def test_publish_missing_from_the_log_is_reconciled(spark, online_settings, client):
    write_snapshot(spark, online_settings, user_stats, D1, rows(1))
    result = sync(spark, online_settings, user_stats, D1)
    pointer = live_key(online_settings.project, "user_stats")
    client.hset(pointer, "logged", "0")  # crash after logging, before marking: no duplicate
    assert not reconcile_sync_log(spark, online_settings, client, "user_stats")
    assert client.hget(pointer, "logged") == b"1"
    # A crash between the swap and the log append: the next sync logs it first.
    client.hset(pointer, "live_at", str(int(result.live_at.timestamp() * 1e6) + 1))
    client.hset(pointer, "logged", "0")
    assert reconcile_sync_log(spark, online_settings, client, "user_stats")
    log = read_sync_log(spark, online_settings, "user_stats").orderBy("live_at").collect()
    assert len(log) == 2 and log[1]["delta_version"] == result.delta_version


def test_refuses_missing_dates_and_other_definition_versions(spark, online_settings, client):
    with pytest.raises(PublishRefused, match="no offline table for view user_stats"):
        sync(spark, online_settings, user_stats, D1)
    write_snapshot(spark, online_settings, user_stats, D1, rows(1), definition_version="0ld")
    with pytest.raises(PublishRefused, match="definition version 0ld"):
        sync(spark, online_settings, user_stats, D1)
    with pytest.raises(PublishRefused, match="no snapshot for 2024-03-02"):
        sync(spark, online_settings, user_stats, D2)
    assert not list(client.scan_iter(match="{" + online_settings.project + ":*"))


def test_absent_entities_stay_missing_after_a_publish(spark, online_settings, store_factory):
    write_snapshot(spark, online_settings, user_stats, D1, rows(1, n=5))
    sync(spark, online_settings, user_stats, D1)
    response = store_factory().get_online_features(REF, [{"user_id": 4}, {"user_id": 5}])
    assert response.values == [[1004], [0]]
    assert response.statuses == [[Status.PRESENT], [Status.MISSING]]


def test_later_snapshot_from_other_definitions_is_refused_after_the_write(
    spark, online_settings, store_factory, client
):
    write_snapshot(spark, online_settings, user_stats, D1, rows(1))
    first = sync(spark, online_settings, user_stats, D1)
    # Live snapshot present: the write job itself finds the foreign rows and skips them.
    write_snapshot(spark, online_settings, user_stats, D2, rows(2), definition_version="0ld")
    with pytest.raises(PublishRefused, match="definition version 0ld"):
        sync(spark, online_settings, user_stats, D2)
    assert served(store_factory()) == [1000 + i for i in range(20)]
    registered = client.zrange(snaps_key(online_settings.project, "user_stats"), 0, -1)
    assert registered == [first.token.encode()]
    time.sleep(0.05)
    data = client.scan_iter(match="{" + online_settings.project + ":user_stats}:d:*")
    assert [k for k in data if b":d:20240303" in k] == []  # the refused snapshot's buckets


def test_sync_log_rows_keep_exact_utc_instants_and_the_table_skips_statistics(
    spark, online_settings
):
    from dataclasses import astuple

    from feature_jobs.offline import SyncLogEntry, append_sync_log, sync_log_table

    entry = SyncLogEntry(
        project=online_settings.project, view="odd_view", snapshot_date=date(2024, 3, 30),
        feature_ts=datetime(2024, 3, 31, 1, 2, 3, 456789, tzinfo=UTC), delta_version=7,
        definition_version="abc123", row_count=12345,
        started_at=datetime(2024, 3, 31, 2, 0, tzinfo=UTC),
        live_at=datetime(2024, 3, 31, 2, 0, 0, 1, tzinfo=UTC), run_id="manual__2024-03-31'x",
    )  # fmt: skip
    append_sync_log(spark, online_settings, entry)
    append_sync_log(spark, online_settings, entry)
    logged = read_sync_log(spark, online_settings, "odd_view").collect()
    assert len(logged) == 2
    expected = [v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in astuple(entry)]
    assert list(logged[0]) == expected  # the session is UTC: naive values are UTC instants
    path = sync_log_table(online_settings)
    properties = {
        r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES delta.`{path}`").collect()
    }
    assert properties["delta.dataSkippingNumIndexedCols"] == "0"

"""Replay: values logged from real online reads equal the as-known join, row for row.

Snapshots are published to a real redis-server by the real sync (with a late-data
correction republished, a backfill never published, and a backfill after go-live);
reads through ``FeatureStore`` are logged with their times; then an as-known training
set on those (keys, times) must give exactly the logged values, statuses and times.
Go-live times come from the Redis clock, so the test works around the present time.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import SparkSession

from feature_jobs.online.store import FeatureStore
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from feature_jobs.timeutil import day_start, logical_date, utc_now
from tests.support.redis_server import RedisServer
from tests.training import defs
from tests.training.support import (
    build,
    micros,
    registry,
    replace_snapshot,
    write_offline,
    write_spine,
)

FEATURES = [
    "shop_daily:orders_7d",
    "shop_daily:amount_sum_7d",
    "shop_daily:last_country",
    "shop_hourly:orders_1h",
    "shop_hourly:amount_avg_6h",
]
SHOPS = (1, 2, 3)


def _daily(orders: int, country: str) -> dict[Any, Any]:
    return {
        (1,): {"orders_7d": orders, "amount_sum_7d": orders * 1.25, "last_country": country},
        (2,): {"orders_7d": 2, "amount_sum_7d": None, "last_country": None},
    }


def test_online_reads_equal_the_as_known_join(
    spark: SparkSession, settings: Settings, redis_server: RedisServer
) -> None:
    settings = dataclasses.replace(settings, redis_url=redis_server.url)
    today = day_start(utc_now().date())
    ts_a, ts_b = today - timedelta(days=1), today  # daily snapshots, both younger than 2d
    # An hourly snapshot 5h old: older than its max_age (3h), served flagged (on_stale=serve).
    ts_h = utc_now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    logged: list[tuple[int, datetime, dict[str, Any]]] = []

    def read() -> None:
        now = utc_now()
        store = FeatureStore(settings, clock=lambda: now, registry=registry())
        try:
            response = store.get_online_features(FEATURES, [{"shop_id": s} for s in SHOPS])
        finally:
            store.close()
        for i, shop in enumerate(SHOPS):
            logged.append((shop, now, {f: response.get(i, f) for f in FEATURES}))

    read()  # before the first publish
    write_offline(spark, settings, defs.shop_daily, {ts_a: _daily(3, "FR")})
    write_offline(
        spark, settings, defs.shop_hourly, {ts_h: {(1,): {"orders_1h": 4, "amount_avg_6h": 9.5}}}
    )
    assert sync(spark, settings, defs.shop_daily, logical_date(ts_a)).published
    assert sync(spark, settings, defs.shop_hourly, logical_date(ts_h)).published
    read()
    replace_snapshot(spark, settings, defs.shop_daily, ts_a, _daily(5, "BE"))  # late data
    assert sync(spark, settings, defs.shop_daily, logical_date(ts_a)).published
    read()
    write_offline(spark, settings, defs.shop_daily, {ts_b: _daily(8, "SE")})
    replace_snapshot(spark, settings, defs.shop_daily, ts_a, _daily(100, "XX"))  # never synced
    assert sync(spark, settings, defs.shop_daily, logical_date(ts_b)).published
    read()
    replace_snapshot(spark, settings, defs.shop_daily, ts_b, _daily(200, "YY"))  # after go-live
    read()

    spine = write_spine(
        spark,
        settings.data_root / "reads",
        [(n, shop, now) for n, (shop, now, _) in enumerate(logged)],
        "n long, shop_id long, ts timestamp",
    )
    _, joined = build(spark, settings, spine, FEATURES, "replay", "as-known")
    assert len(joined) == len(logged)
    seen = set()
    for (shop, now, served), row in zip(logged, joined, strict=True):
        for ref in FEATURES:
            view, feature = ref.split(":")
            online = served[ref]
            context = f"shop {shop} read at {now.isoformat()}: {ref}"
            assert row[f"{view}__{feature}"] == online.value, context
            assert row[f"{view}__status"] == online.status.value, context
            assert row[f"{view}__feature_ts"] == micros(online.feature_ts), context
            seen.add((view, online.status.value))
    # The replay covered every status, and the corrections (not the backfills) were served.
    assert {s for _, s in seen} == {"PRESENT", "MISSING", "STALE"}
    orders = [r["shop_daily__orders_7d"] for r in joined if r["shop_id"] == 1]
    assert orders == [0, 3, 5, 8, 8]

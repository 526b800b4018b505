"""As-known mode: each row gets what the online store was serving at its ts.

Snapshots are published at controlled times (sync-log rows), with a late-data correction
republished in between and a backfill that is never published; the join must replay
exactly the publications, never the later Delta versions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyspark.sql import SparkSession

from feature_jobs.settings import Settings
from tests.training import defs
from tests.training.pit_oracle import OraclePublication, lookup_as_known
from tests.training.support import (
    build,
    log_publish,
    micros,
    oracle_view,
    replace_snapshot,
    utc,
    write_offline,
    write_spine,
)

FEATURES = ["orders_7d", "amount_sum_7d", "last_country"]
D2, D3, D4 = utc(2024, 3, 2), utc(2024, 3, 3), utc(2024, 3, 4)


def _rows(orders_1: int, country_1: str | None, with_2: bool = True) -> dict[Any, Any]:
    rows: dict[Any, Any] = {
        (1,): {"orders_7d": orders_1, "amount_sum_7d": 1.5 * orders_1, "last_country": country_1}
    }
    if with_2:
        rows[(2,)] = {"orders_7d": 1, "amount_sum_7d": None, "last_country": "NL"}
    return rows


def test_as_known_replays_the_publications(spark: SparkSession, settings: Settings) -> None:
    view = defs.shop_daily
    pubs: list[OraclePublication] = []

    def publish(
        feature_ts: datetime, version: int, rows: dict[Any, Any], live_at: datetime
    ) -> None:
        log_publish(spark, settings, view, feature_ts, version, live_at)
        pubs.append(OraclePublication(live_at, feature_ts, rows))

    v0 = write_offline(spark, settings, view, {D2: _rows(3, "FR")})
    publish(D2, v0, _rows(3, "FR"), utc(2024, 3, 2, 1, 10))
    v1 = replace_snapshot(spark, settings, view, D2, _rows(5, "BE"))  # late data, republished
    publish(D2, v1, _rows(5, "BE"), utc(2024, 3, 2, 9))
    v2 = replace_snapshot(spark, settings, view, D3, _rows(7, None, with_2=False))
    publish(D3, v2, _rows(7, None, with_2=False), utc(2024, 3, 3, 0, 45))
    replace_snapshot(spark, settings, view, D2, _rows(100, "XX"))  # a backfill, never published
    v4 = replace_snapshot(spark, settings, view, D4, _rows(2, "SE"))
    publish(D4, v4, _rows(2, "SE"), utc(2024, 3, 4, 2))

    times = [
        utc(2024, 3, 2, 0, 30),  # snapshot exists, not yet published: MISSING
        utc(2024, 3, 2, 1, 10),  # exactly at go-live
        utc(2024, 3, 2, 8, 59, 59),
        utc(2024, 3, 2, 9),  # the corrected republish
        utc(2024, 3, 3, 0, 30),  # D3 computed but not live yet: still D2 (v1)
        utc(2024, 3, 3, 0, 45),
        utc(2024, 3, 4, 1),
        utc(2024, 3, 5, 12),
        utc(2024, 3, 6, 3),  # D4 served but older than max_age (2d): STALE, defaults
    ]
    spine_rows = [
        (i, shop, ts) for i, (ts, shop) in enumerate((t, s) for t in times for s in (1, 2, 3))
    ]
    spine = write_spine(
        spark,
        settings.data_root / "spine",
        [(n, shop, "eu", ts) for n, shop, ts in spine_rows],
        "n long, shop_id long, region string, ts timestamp",
    )
    refs = [f"shop_daily:{f}" for f in FEATURES] + ["pair_daily:orders_1d"]
    known = sorted(
        build(spark, settings, spine, refs, "known", "as-known")[1], key=lambda r: r["n"]
    )
    oracle = oracle_view(view)
    for (n, shop, ts), out in zip(spine_rows, known, strict=True):
        expected = lookup_as_known(oracle, pubs, (shop,), ts, FEATURES)
        context = f"row {n}: shop {shop} at {ts.isoformat()}"
        assert out["shop_daily__status"] == expected.status, context
        assert out["shop_daily__feature_ts"] == micros(expected.feature_ts), context
        for feat in FEATURES:
            assert out[f"shop_daily__{feat}"] == expected.values[feat], f"{context} {feat}"
        # pair_daily was never published (nor materialized): MISSING with defaults.
        assert (out["pair_daily__status"], out["pair_daily__orders_1d"]) == ("MISSING", 0)
    by_n = {r["n"]: r for r in known}
    assert by_n[0]["shop_daily__status"] == "MISSING"
    assert by_n[9]["shop_daily__orders_7d"] == 5  # the republished correction, not the backfill

    # Event-time mode on the same spine sees the unpublished backfill: that is the skew.
    # (pair_daily has no offline table: event-time mode would refuse it.)
    event = {r["n"]: r for r in build(spark, settings, spine, refs[:-1], "event")[1]}
    assert event[9]["shop_daily__orders_7d"] == 100
    assert event[0]["shop_daily__status"] == "PRESENT"

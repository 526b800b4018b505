"""Event-time join against the brute-force oracle: three views, one call, tricky times."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from feature_jobs.definitions import FeatureRef
from feature_jobs.settings import Settings
from feature_jobs.training import job, point_in_time
from tests.training import defs
from tests.training.pit_oracle import OracleView, lookup
from tests.training.support import build, micros, oracle_view, utc, write_offline, write_spine


def _daily() -> OracleView:
    view = oracle_view(defs.shop_daily)
    view.snapshots = {
        utc(2024, 3, 2): {
            (1,): {
                "orders_7d": 3,
                "amount_sum_7d": 30.0,
                "amount_max_7d": 15.0,
                "last_country": "FR",
            },
            # amount_max and last_country null: the feature's default (or null) applies.
            (2,): {
                "orders_7d": 1,
                "amount_sum_7d": 5.0,
                "amount_max_7d": None,
                "last_country": None,
            },
        },
        utc(2024, 3, 3): {  # shop 2 disappears, shop 3 appears
            (1,): {
                "orders_7d": 4,
                "amount_sum_7d": 41.5,
                "amount_max_7d": 15.0,
                "last_country": "DE",
            },
            (3,): {
                "orders_7d": 2,
                "amount_sum_7d": 7.25,
                "amount_max_7d": 4.0,
                "last_country": "IT",
            },
        },
        # No snapshot from 03-04 to 03-07: a gap longer than max_age (2d).
        utc(2024, 3, 8): {
            (1,): {
                "orders_7d": 1,
                "amount_sum_7d": 2.0,
                "amount_max_7d": 2.0,
                "last_country": "ES",
            },
            (2,): {
                "orders_7d": 6,
                "amount_sum_7d": 60.0,
                "amount_max_7d": 20.0,
                "last_country": "PT",
            },
        },
    }
    return view


def _hourly() -> OracleView:
    view = oracle_view(defs.shop_hourly)
    base = utc(2024, 3, 2, 10)
    view.snapshots = {
        base + timedelta(hours=h): {
            (1,): {"orders_1h": h, "amount_avg_6h": 10.0 + h},
            **({(2,): {"orders_1h": 7, "amount_avg_6h": None}} if h % 2 else {}),
        }
        for h in (0, 1, 2)  # then nothing until 18:00: a gap longer than max_age (3h)
    }
    view.snapshots[utc(2024, 3, 2, 18)] = {(2,): {"orders_1h": 1, "amount_avg_6h": 3.5}}
    return view


def _pairs() -> OracleView:
    view = oracle_view(defs.pair_daily)
    view.snapshots = {
        utc(2024, 3, 2): {
            ("eu", 1): {"orders_1d": 2, "amount_min_1d": 1.5},
            ("us", 1): {"orders_1d": 9, "amount_min_1d": None},
        },
        utc(2024, 3, 3): {
            ("eu", 1): {"orders_1d": 0, "amount_min_1d": None},
            ("eu", 2): {"orders_1d": 4, "amount_min_1d": 0.5},
        },
    }
    return view


SPINE_TIMES = [
    utc(2024, 3, 1, 23, 59, 59),  # before every first snapshot
    utc(2024, 3, 2),  # exactly at the first daily snapshot: it applies
    utc(2024, 3, 2, 9, 59, 59),
    utc(2024, 3, 2, 10),  # exactly at the first hourly snapshot
    utc(2024, 3, 2, 10, 59, 59, 999999),
    utc(2024, 3, 2, 12, 30),
    utc(2024, 3, 2, 15, 0),  # hourly age exactly max_age: still fresh
    utc(2024, 3, 2, 15, 0, 0, 1),  # one microsecond older: STALE (served, flagged)
    utc(2024, 3, 2, 19, 45),
    utc(2024, 3, 3, 0, 0),
    utc(2024, 3, 4, 0, 0, 1),  # pair view (max_age 1d) turns STALE: rejected
    utc(2024, 3, 6, 12),  # inside the daily gap: STALE, defaults
    utc(2024, 3, 8),  # exactly at the snapshot after the gap
    utc(2024, 3, 10),  # daily age exactly 2d: fresh
    utc(2024, 3, 10, 0, 0, 1),  # STALE
]
ENTITIES = [("eu", 1), ("us", 1), ("eu", 2), ("eu", 3), ("us", 99)]


def _spine_rows() -> list[tuple[Any, ...]]:
    rows = []
    for ts in SPINE_TIMES:
        for region, shop in ENTITIES:
            rows.append((len(rows), region, shop, ts, f"label-{len(rows) % 3}"))
    # Duplicate rows stay duplicated; out-of-order times stay in spine order.
    rows += [rows[7], rows[7], rows[30]]
    rows.insert(3, rows[-1])
    return rows


def _write_oracle_spine(
    spark: SparkSession, settings: Settings, rows: list[tuple[Any, ...]], name: str
) -> Path:
    schema = "row_no long, region string, shop_id long, ts timestamp, label string"
    return write_spine(spark, settings.data_root / "spines" / name, rows, schema)


@pytest.fixture
def offline(spark: SparkSession, settings: Settings) -> dict[str, OracleView]:
    views = {"shop_daily": _daily(), "shop_hourly": _hourly(), "pair_daily": _pairs()}
    for view in (defs.shop_daily, defs.shop_hourly, defs.pair_daily):
        write_offline(spark, settings, view, views[view.name].snapshots)
    return views


@pytest.mark.parametrize("prefilter", [True, False], ids=["prefiltered", "all-offline-rows"])
def test_event_time_join_matches_the_oracle(
    spark: SparkSession,
    settings: Settings,
    offline: dict[str, OracleView],
    prefilter: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With three views the job would not choose the pre-filter; forced, it must still be exact.
    monkeypatch.setattr(job, "prefilter_pays", lambda *_: prefilter)
    filtered: list[None] = []  # the real pre-filter, counting the joins it ran for
    real_filter = point_in_time.matchable_rows
    monkeypatch.setattr(
        point_in_time, "matchable_rows", lambda *args: filtered.append(None) or real_filter(*args)
    )
    rows = _spine_rows()
    spine = _write_oracle_spine(spark, settings, rows, "s1")
    features = [FeatureRef.parse(r) for r in defs.everything.features]
    result, got = build(spark, settings, spine, list(defs.everything.features), "train")
    written = spark.read.parquet(str(settings.data_root / "train"))
    by_view: dict[str, list[str]] = {}
    for ref in features:
        by_view.setdefault(ref.view, []).append(ref.feature)
    assert written.columns == [
        "row_no",
        "region",
        "shop_id",
        "ts",
        "label",
        *[f"{r.view}__{r.feature}" for r in features],
        *[f"{v}__{c}" for v in by_view for c in ("status", "feature_ts")],
    ]
    assert [r["row_no"] for r in got] == [r[0] for r in rows]  # every row, once, in order
    assert result.rows == len(rows)
    for spine_row, out in zip(rows, got, strict=True):
        row_no, region, shop, ts, label = spine_row
        assert (out["region"], out["shop_id"], out["ts"], out["label"]) == (
            region,
            shop,
            micros(ts),
            label,
        )
        for name, feats in by_view.items():
            view = offline[name]
            keys = (region, shop) if view.keys == ("region", "shop_id") else (shop,)
            expected = lookup(view, keys, ts, feats)
            context = f"row {row_no} view {name} ts {ts.isoformat()} keys {keys}"
            assert out[f"{name}__status"] == expected.status, context
            assert out[f"{name}__feature_ts"] == micros(expected.feature_ts), context
            for feat in feats:
                assert out[f"{name}__{feat}"] == expected.values[feat], f"{context} {feat}"
    statuses = {s for r in got for v in by_view for s in [r[f"{v}__status"]]}
    assert statuses == {"PRESENT", "MISSING", "STALE"}  # the scenario covers all three
    served_stale = [
        r for r in got if r["shop_hourly__status"] == "STALE" and r["shop_hourly__orders_1h"]
    ]
    assert served_stale, "on_stale=serve keeps the stale values"
    assert result.status_counts["pair_daily"]["STALE"] > 0
    assert len(filtered) == (3 if prefilter else 0)  # once per view, or never


def test_default_order_writes_the_same_rows_and_checksum_as_spine_order(
    spark: SparkSession, settings: Settings, offline: dict[str, OracleView]
) -> None:
    rows = _spine_rows()
    spine = _write_oracle_spine(spark, settings, rows, "s_any_order")
    features = list(defs.everything.features)
    ordered, ordered_rows = build(spark, settings, spine, features, "ordered")
    unordered, unordered_rows = build(
        spark, settings, spine, features, "any_order", keep_spine_order=False
    )
    assert unordered.rows == ordered.rows == len(rows)
    assert unordered.checksum == ordered.checksum
    assert unordered.status_counts == ordered.status_counts
    assert unordered.leakage == ordered.leakage

    def key(r: dict[str, Any]) -> tuple[str, ...]:
        return tuple(repr(r[c]) for c in sorted(r))

    assert sorted(unordered_rows, key=key) == sorted(ordered_rows, key=key)
    manifest = json.loads((settings.data_root / "any_order.manifest.json").read_text())
    assert manifest["output"]["keep_spine_order"] is False

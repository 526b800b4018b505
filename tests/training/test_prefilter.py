"""The offline pre-filter keeps exactly the rows a spine can match, and only for small spines."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feature_jobs.training import prefilter
from feature_jobs.training.prefilter import matchable_rows, prefilter_pays
from tests.training.support import utc

OFFLINE_SCHEMA = "k_region string, k_shop long, t timestamp, value double"
SPINE_SCHEMA = "region string, shop_id long, ts timestamp, snapshot timestamp"
DAY1, DAY2, DAY3 = utc(2024, 3, 2), utc(2024, 3, 3), utc(2024, 3, 4)


def _offline(spark: SparkSession):  # type: ignore[no-untyped-def]
    rows = [
        (region, shop, day, float(shop))
        for day in (DAY1, DAY2, DAY3)
        for region in ("eu", "us")
        for shop in (1, 2, 3)
    ]
    return spark.createDataFrame(rows, OFFLINE_SCHEMA)


def test_keeps_exactly_the_pairs_the_spine_has(spark: SparkSession) -> None:
    spine = spark.createDataFrame(
        [
            ("eu", 1, DAY1, DAY1),
            ("eu", 1, DAY1, DAY1),  # a duplicate spine row: its pair is kept once
            ("us", 2, DAY3, DAY2),  # same shop id, other region: a composite key
            ("eu", 3, DAY1, None),  # before the first snapshot: matches nothing
            ("eu", 9, DAY2, DAY2),  # an entity the table does not hold
        ],
        SPINE_SCHEMA,
    )
    kept = matchable_rows(
        _offline(spark), ["k_region", "k_shop"], "t", spine, ["region", "shop_id"], "snapshot"
    )
    got = sorted((r.k_region, r.k_shop, r.t) for r in kept.collect())
    assert got == [("eu", 1, DAY1.replace(tzinfo=None)), ("us", 2, DAY2.replace(tzinfo=None))]


def test_keys_of_another_type_leave_the_rows_unfiltered(spark: SparkSession) -> None:
    # An int key hashes differently from the same long value: no filter, no lost row.
    spine = spark.createDataFrame(
        [("eu", 1, DAY1, DAY1)], "region string, shop_id int, ts timestamp, snapshot timestamp"
    )
    offline = _offline(spark)
    kept = matchable_rows(
        offline, ["k_region", "k_shop"], "t", spine, ["region", "shop_id"], "snapshot"
    )
    assert kept.count() == offline.count() == 18


def test_only_a_single_view_and_a_spine_up_to_the_threshold_are_prefiltered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spine = tmp_path / "spine"
    spine.mkdir()
    (spine / "part-0.parquet").write_bytes(b"x" * 1000)
    (spine / "part-1.parquet").write_bytes(b"x" * 500)
    monkeypatch.setattr(prefilter, "PREFILTER_MAX_SPINE_BYTES", 1500)
    assert prefilter_pays(spine, views=1)
    assert not prefilter_pays(spine, views=2)  # a second view's filter re-runs the first join
    monkeypatch.setattr(prefilter, "PREFILTER_MAX_SPINE_BYTES", 1499)
    assert not prefilter_pays(spine, views=1)

"""Property test on small random histories: no future snapshot, no lost or doubled row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feature_jobs.training.point_in_time import event_time_join
from feature_jobs.training.request import ViewRequest
from tests.training import defs
from tests.training.pit_oracle import lookup
from tests.training.support import offline_frame, oracle_view, utc

START = utc(2024, 3, 1)
EPOCH = utc(1970, 1, 1)
FEATURES = ("orders_7d", "amount_max_7d")

snapshots = st.dictionaries(
    st.integers(min_value=1, max_value=6),  # day offsets of the snapshots that exist
    st.dictionaries(
        st.integers(min_value=1, max_value=3),  # entities present in that snapshot
        st.tuples(st.integers(0, 9), st.one_of(st.none(), st.floats(0, 100, width=32))),
        # An empty snapshot leaves no row in the offline table, so it cannot exist there.
        min_size=1,
        max_size=3,
    ),
    max_size=4,
)
spine_rows = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=4),
        # Half-hour steps from a day before the first possible snapshot to well after.
        st.integers(min_value=0, max_value=10 * 48),
    ),
    min_size=1,
    max_size=12,
)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=snapshots, rows=spine_rows, prefilter=st.booleans())
def test_join_never_looks_ahead_nor_loses_rows(
    spark: SparkSession,
    history: dict[int, dict[int, Any]],
    rows: list[tuple[int, int]],
    prefilter: bool,
) -> None:
    oracle = oracle_view(defs.shop_daily)
    oracle.snapshots = {
        START + timedelta(days=day): {
            (shop,): {"orders_7d": orders, "amount_max_7d": amount}
            for shop, (orders, amount) in entities.items()
        }
        for day, entities in history.items()
    }
    offline = offline_frame(spark, defs.shop_daily, oracle.snapshots)
    # Duplicates are likely (few entities and times): they must all come back.
    spine = [(n, shop, START + timedelta(minutes=30 * step)) for n, (shop, step) in enumerate(rows)]
    frame = spark.createDataFrame(spine, "n long, shop_id long, ts timestamp")
    request = ViewRequest(defs.shop_daily, FEATURES)
    joined = event_time_join(frame, "ts", request, offline, prefilter=prefilter)
    got = joined.select(
        "n",
        (F.unix_micros("ts") - F.unix_micros("shop_daily__feature_ts")).alias("lead_us"),
        "shop_daily__status",
        "shop_daily__feature_ts",
        *[f"shop_daily__{f}" for f in FEATURES],
    ).collect()

    assert sorted(r.n for r in got) == list(range(len(spine)))  # each row exactly once
    assert all(r.lead_us is None or r.lead_us >= 0 for r in got)  # never a future snapshot
    by_n = {r.n: r for r in got}
    for n, shop, ts in spine:
        expected = lookup(oracle, (shop,), ts, list(FEATURES))
        row = by_n[n]
        assert row.shop_daily__status == expected.status
        assert (row.shop_daily__feature_ts is None) == (expected.feature_ts is None)
        for feature in FEATURES:
            value = row[f"shop_daily__{feature}"]
            wanted = expected.values[feature]
            assert value == (None if wanted is None else type(value)(wanted))

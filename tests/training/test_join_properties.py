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
from tests.training.pit_oracle import OracleView, lookup
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
    oracle, spine = _scenario(history, rows)
    offline = offline_frame(spark, defs.shop_daily, oracle.snapshots)
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


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=snapshots, rows=spine_rows)
def test_local_join_never_looks_ahead_nor_loses_rows(
    history: dict[int, dict[int, Any]], rows: list[tuple[int, int]]
) -> None:
    """The same property and oracle, on the local engine's SQL (no Spark: more examples)."""
    oracle, spine = _scenario(history, rows)
    got = _local_join(oracle.snapshots, spine)
    assert [r["n"] for r in got] == list(range(len(spine)))  # each row once, in spine order
    for (n, shop, ts), row in zip(spine, got, strict=True):
        expected = lookup(oracle, (shop,), ts, list(FEATURES))
        assert row["status"] == expected.status, n
        assert row["feature_ts"] == expected.feature_ts, n
        if row["feature_ts"] is not None:
            assert row["feature_ts"] <= ts  # never a future snapshot
        for feature in FEATURES:
            wanted = expected.values[feature]
            value = row[feature]
            assert value == (None if wanted is None else type(value)(wanted)), (n, feature)


def _scenario(
    history: dict[int, dict[int, Any]], rows: list[tuple[int, int]]
) -> tuple[OracleView, list[tuple[int, int, Any]]]:
    """The oracle's view of a drawn history, and the drawn spine rows ``(n, shop, ts)``."""
    oracle = oracle_view(defs.shop_daily)
    oracle.snapshots = {
        START + timedelta(days=day): {
            (shop,): {"orders_7d": orders, "amount_max_7d": amount}
            for shop, (orders, amount) in entities.items()
        }
        for day, entities in history.items()
    }
    # Duplicates are likely (few entities and times): they must all come back.
    spine = [(n, shop, START + timedelta(minutes=30 * step)) for n, (shop, step) in enumerate(rows)]
    return oracle, spine


def _local_join(
    snapshots: dict[Any, Any], spine: list[tuple[int, int, Any]]
) -> list[dict[str, Any]]:
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    from feature_jobs.offline.delta_rs import VersionFiles
    from feature_jobs.training.local.connection import connect
    from feature_jobs.training.local.engine import register_snapshot_times
    from feature_jobs.training.local.join_sql import ORDINAL, SPINE, TS_US, ViewRead, join_query

    offline = [
        (shop, values["orders_7d"], values["amount_max_7d"], ts)
        for ts, entities in snapshots.items()
        for (shop,), values in entities.items()
    ]
    with tempfile.TemporaryDirectory() as folder:
        files: tuple[str, ...] = ()
        if offline:
            path = f"{folder}/part-0.parquet"
            shops, orders, amounts, times = zip(*offline, strict=True)
            table = pa.table(
                {
                    "shop_id": pa.array(shops, pa.int64()),
                    "orders_7d": pa.array(orders, pa.int64()),
                    "amount_max_7d": pa.array(amounts, pa.float64()),
                    "feature_ts": pa.array(times, pa.timestamp("us", "UTC")),
                }
            )
            pq.write_table(table, path)
            files = (path,)
        listed = VersionFiles(
            folder, 0, files, (None,) * len(files), frozenset(FEATURES) | {"shop_id"}, 0
        )
        request = ViewRequest(defs.shop_daily, FEATURES)
        query = join_query(
            [ViewRead(request, files=listed)], lambda *_: set(FEATURES), ordered=True
        )
        con = connect("256MB")
        register_snapshot_times(con, [ViewRead(request, files=listed)])
        con.register(
            SPINE,
            pa.table(
                {
                    ORDINAL: pa.array(range(len(spine)), pa.int64()),
                    "shop_id": pa.array([s for _, s, _ in spine], pa.int64()),
                    TS_US: pa.array(
                        [(ts - EPOCH) // timedelta(microseconds=1) for _, _, ts in spine],
                        pa.int64(),
                    ),
                }
            ),
        )
        result = con.sql(query.sql, params=query.params).to_arrow_table().to_pylist()
    return [
        {
            "n": r[ORDINAL],
            "status": r["shop_daily__status"],
            "feature_ts": r["shop_daily__feature_ts"],
            **{f: r[f"shop_daily__{f}"] for f in FEATURES},
        }
        for r in result
    ]

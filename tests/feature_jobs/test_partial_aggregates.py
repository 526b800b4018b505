"""compute_snapshots (partial aggregates per bucket) equals the former event pairing.

The reference, :mod:`tests.feature_jobs.event_pairing_reference`, pairs every event with
every snapshot time in its scope. Both run on the same prepared events; every row and
column must agree: doubles within 1e-9 (sums are regrouped), everything else exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feature_jobs.definitions import DerivedColumn, Entity, Feature, FeatureView
from feature_jobs.timeutil import snapshot_times
from feature_jobs.transform import compute_snapshots, prepare_events, prune_events
from tests.feature_jobs.event_pairing_reference import event_pairing_snapshots
from tests.feature_jobs.tiny_domain import NO_BATCH_CHECKS, tx_source, utc

SCHEMA = {
    "tx_id": "string",
    "user_id": "long",
    "amount": "double",
    "qty": "long",
    "country": "string",
    "event_ts": "timestamp",
    "ingested_ts": "timestamp",
}
ROW_SCHEMA = ", ".join(f"{name} {'bigint' if t == 'long' else t}" for name, t in SCHEMA.items())
START = utc(2026, 3, 1)  # 00:00 UTC; the first daily snapshot is at START + 1 day
USER = Entity(name="user", join_keys={"user_id": "long"})
SOURCE = tx_source(schema=SCHEMA)


def _features(windows: Sequence[str]) -> list[Feature]:
    """Every aggregation, each on nulls, ties and a filter; windows short, mid, long."""
    short, mid, long = windows
    return [
        Feature(name="n_short", function="count", window=short),
        Feature(name="n_big_long", function="count", window=long, filter="amount > 5"),
        Feature(name="countries_mid", function="count_distinct", column="country", window=mid),
        Feature(name="amounts_long", function="count_distinct", column="amount", window=long),
        Feature(name="qtys_short", function="count_distinct", column="qty", window=short),
        Feature(name="amount_sum_long", function="sum", column="amount", window=long),
        Feature(name="qty_sum_mid", function="sum", column="qty", window=mid),
        Feature(
            name="twice_sum_mid", function="sum", expression="amount * 2", dtype="double",
            window=mid, filter="country = 'FR'",
        ),
        Feature(name="amount_avg_long", function="avg", column="amount", window=long),
        Feature(name="qty_avg_short", function="avg", column="qty", window=short),
        Feature(name="amount_min_short", function="min", column="amount", window=short),
        Feature(name="amount_max_mid", function="max", column="amount", window=mid),
        Feature(name="country_max_long", function="max", column="country", window=long),
        Feature(name="first_ts_mid", function="min", column="event_ts", window=mid),
        Feature(name="big_max_long", function="max", column="is_big", window=long),
        Feature(name="last_country_long", function="last", column="country", window=long),
        Feature(name="last_amount_mid", function="last", column="amount", window=mid),
        Feature(
            name="last_big_qty_mid", function="last", column="qty", window=mid,
            filter="is_big",
        ),
    ]  # fmt: skip


def _view(name: str, cadence: str, windows: Sequence[str]) -> FeatureView:
    return FeatureView(
        name=name,
        entity=USER,
        source=SOURCE,
        owner="tests",
        cadence=cadence,  # type: ignore[arg-type]
        max_age="2d",
        checks=NO_BATCH_CHECKS,
        filter="country IS NULL OR country != 'XX'",
        derived_columns=[DerivedColumn(name="is_big", expression="amount > 50", dtype="boolean")],
        features=_features(windows),
    )


DAILY = _view("daily_stats", "daily", ["1d", "2d", "3d"])
HOURLY = _view("hourly_stats", "hourly", ["1h", "3h", "24h"])


def _row(tx: str, user: int, ts: datetime, amount: Any, qty: Any, country: Any, n: int) -> tuple:
    # Distinct ingestion times: which delivery of a key wins is never a tie.
    return (tx, user, amount, qty, country, ts, ts + timedelta(minutes=5, microseconds=n))


def _edge_events() -> list[tuple]:
    """Events at the edges the windows must get right, for users 1 and 2."""
    c = START + timedelta(days=2)  # a daily C, also an hourly one
    rows = [
        ("at-c", 1, c, 1000.0, 7, "FR"),  # exactly C: only in later snapshots
        ("c-1us", 1, c - timedelta(microseconds=1), 20.0, 3, "DE"),
        ("c-1d", 1, c - timedelta(days=1), 10.0, None, "FR"),  # exactly C - 1d: in the 1d window
        ("c-1h", 1, c - timedelta(hours=1), 60.0, 2, None),  # exactly C - 1h
        ("c-1h-1us", 1, c - timedelta(hours=1, microseconds=1), None, 4, "ES"),
        # Equal times: "t9" > "t10" as strings, so t9 is the latest; t11 is filtered out by
        # the view filter, whatever its key.
        ("t10", 2, c - timedelta(hours=2), 70.0, 5, "AT"),
        ("t9", 2, c - timedelta(hours=2), 80.0, 6, "BE"),
        ("t11", 2, c - timedelta(hours=2), 90.0, 9, "XX"),
        ("zero", 2, c - timedelta(hours=5), 0.0, 0, "FR"),
        ("negzero", 2, c - timedelta(days=1, hours=6), -0.0, 0, "FR"),  # a day before 0.0
        ("nan", 2, c - timedelta(hours=7), math.nan, 1, "FR"),
        ("null-all", 2, c - timedelta(hours=8), None, None, None),
    ]
    return [_row(*r, n) for n, r in enumerate(rows)]


def _random_events(seed: int, users: int, days: int) -> list[tuple]:
    rng = random.Random(seed)
    amounts = [None, 0.0, 1.25, 7.5, 60.0, 99.5]
    rows = []
    for n in range(40 * days):
        ts = START + timedelta(seconds=rng.randrange(days * 86_400))
        if rng.random() < 0.2:  # on a midnight, or a microsecond before one
            midnight = START + timedelta(days=rng.randrange(1, days))
            ts = midnight - timedelta(microseconds=rng.choice([0, 1]))
        amount = rng.choice(amounts) if rng.random() < 0.5 else round(rng.uniform(0, 100), 2)
        qty = rng.choice([None, 1, 2, 3, 10])
        country = rng.choice([None, "FR", "DE", "ES", "XX"])
        tx = f"r{rng.randrange(30 * days)}"  # repeated keys: later deliveries replace earlier
        rows.append(_row(tx, rng.randrange(1, users + 1), ts, amount, qty, country, 100 + n))
    return rows


def _both(
    spark: SparkSession, view: FeatureView, rows: list[tuple], times: list[datetime]
) -> tuple[DataFrame, DataFrame]:
    events = spark.createDataFrame(rows, ROW_SCHEMA)
    pruned = prune_events(view, events, min(times) - view.longest_window, max(times))
    prepared = prepare_events(view, pruned)
    return event_pairing_snapshots(view, prepared, times), compute_snapshots(view, prepared, times)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float):
        if math.isnan(expected):
            return isinstance(actual, float) and math.isnan(actual)
        return isinstance(actual, float) and math.isclose(
            actual, expected, rel_tol=1e-9, abs_tol=1e-9
        )
    return type(actual) is type(expected) and actual == expected


def assert_same_snapshots(view: FeatureView, expected: DataFrame, actual: DataFrame) -> int:
    """Equal schemas and rows; returns the number of rows compared."""
    assert [(f.name, f.dataType) for f in actual.schema] == [
        (f.name, f.dataType) for f in expected.schema
    ]
    order = [*view.keys, "feature_ts"]
    # One Spark job for both sides: a test pays Spark's scheduling per job.
    sides = expected.withColumn("__side", F.lit(0)).unionByName(
        actual.withColumn("__side", F.lit(1))
    )
    rows = sorted((r.asDict() for r in sides.collect()), key=lambda r: [r[k] for k in order])
    want = [{k: v for k, v in r.items() if k != "__side"} for r in rows if r["__side"] == 0]
    got = [{k: v for k, v in r.items() if k != "__side"} for r in rows if r["__side"] == 1]
    assert [tuple(r[k] for k in order) for r in got] == [tuple(r[k] for k in order) for r in want]
    for g, w in zip(got, want, strict=True):
        for column, value in w.items():
            assert _same(g[column], value), (
                f"{view.name} user {w['user_id']} at {w['feature_ts']}: {column} is "
                f"{g[column]!r}, the event pairing gives {value!r}"
            )
    return len(want)


def test_daily_view_equals_event_pairing(spark: SparkSession) -> None:
    rows = _edge_events() + _random_events(seed=3, users=4, days=6)
    # Six consecutive days, then a gap: the pairing must skip times that were not asked.
    days = [START.date() + timedelta(days=d) for d in (0, 1, 2, 3, 4, 5, 8)]
    times = [t for day in days for t in snapshot_times(day, DAILY.cadence_delta)]
    expected, actual = _both(spark, DAILY, rows, times)
    assert assert_same_snapshots(DAILY, expected, actual) > 20


def test_hourly_view_equals_event_pairing(spark: SparkSession) -> None:
    rows = _edge_events() + _random_events(seed=5, users=3, days=3)
    times = snapshot_times(START.date() + timedelta(days=1), HOURLY.cadence_delta)
    expected, actual = _both(spark, HOURLY, rows, times)
    assert assert_same_snapshots(HOURLY, expected, actual) > 40


def test_one_snapshot_time_equals_event_pairing(spark: SparkSession) -> None:
    times = [START + timedelta(days=2)]  # the daily path: a range of one day
    expected, actual = _both(spark, DAILY, _edge_events(), times)
    assert assert_same_snapshots(DAILY, expected, actual) == 2


def test_times_off_midnight_equal_event_pairing(spark: SparkSession) -> None:
    # Not a time materialize asks for, but compute_snapshots takes any C: buckets shrink
    # to half an hour here so that C still falls on a bucket boundary.
    times = [START + timedelta(days=1, minutes=90), START + timedelta(days=2, minutes=-30)]
    expected, actual = _both(spark, DAILY, _edge_events(), times)
    assert assert_same_snapshots(DAILY, expected, actual) == 4


# Times on a half-hour grid over four days, nudged onto and around midnights and hours.
_moments = st.builds(
    lambda step, nudge: START + timedelta(minutes=30 * step, microseconds=nudge),
    st.integers(min_value=0, max_value=4 * 48),
    st.sampled_from([0, 0, -1, 1, 1_799_999_999]),
)
_events = st.lists(
    st.tuples(
        st.integers(0, 12),  # few keys: redeliveries happen
        st.integers(1, 3),
        _moments,
        st.one_of(st.none(), st.sampled_from([0.0, -0.0, 2.5, 60.0]), st.floats(0, 100)),
        st.one_of(st.none(), st.integers(-3, 3)),
        st.sampled_from([None, "FR", "DE", "XX"]),
    ),
    min_size=1,
    max_size=25,
)


@hsettings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=_events, first_day=st.integers(0, 3), days=st.integers(1, 3))
def test_random_histories_equal_event_pairing(
    spark: SparkSession, events: list[tuple], first_day: int, days: int
) -> None:
    rows = [
        _row(f"k{key}", user, ts, amount, qty, country, n)
        for n, (key, user, ts, amount, qty, country) in enumerate(events)
    ]
    start = START.date() + timedelta(days=first_day)
    times = [start + timedelta(days=d) for d in range(days)]
    snapshot_ts = [t for day in times for t in snapshot_times(day, DAILY.cadence_delta)]
    expected, actual = _both(spark, DAILY, rows, snapshot_ts)
    assert_same_snapshots(DAILY, expected, actual)

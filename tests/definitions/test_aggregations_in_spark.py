"""Every function/type pair the definitions accept also runs in Spark, to known values.

The load-time type check (``Feature.check_input_type``) must neither refuse a definition
Spark computes nor let through one it cannot: one view holds a feature for every accepted
pair, materialized through the real path (source read, transform, gate, Delta), and its
values are held to hand-computed answers and to the independent oracle.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from feature_jobs.definitions import Entity, Feature, FeatureView, Source
from feature_jobs.definitions.feature import ACCEPTED_INPUT_TYPES, AGGREGATIONS
from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.errors import DefinitionError
from feature_jobs.materialize import materialize
from feature_jobs.offline import read_offline
from feature_jobs.settings import Settings
from feature_jobs.transform import check_expressions
from tests.feature_jobs.tiny_domain import NO_BATCH_CHECKS, utc
from tests.oracle import snapshot_oracle

DAY = date(2026, 1, 10)
C = utc(2026, 1, 11)
T0, T1 = utc(2025, 6, 1, 8), utc(2025, 7, 1, 9)
#: One column per logical type, named after it.
TYPED_COLUMNS = {"s": "string", "n": "long", "d": "double", "b": "boolean", "t": "timestamp"}

SOURCE = Source(
    name="typed",
    path="raw/typed",
    schema={
        "rec_id": "string",
        "user_id": "long",
        "event_ts": "timestamp",
        "ingested_ts": "timestamp",
        **TYPED_COLUMNS,
    },
    ingestion_timestamp_column="ingested_ts",
    dedup_key=["rec_id"],
)


def accepted_pairs() -> list[tuple[str, str]]:
    """(function, column) for every function and typed column the definitions accept."""
    return [
        (function, column)
        for function in AGGREGATIONS
        for column, dtype in TYPED_COLUMNS.items()
        if dtype in ACCEPTED_INPUT_TYPES[function]
    ]


def typed_view() -> FeatureView:
    features = [Feature(name="rows_7d", function="count", window="7d")]
    features += [
        Feature(name=f"{function}_{column}", function=function, column=column, window="7d")
        for function, column in accepted_pairs()
    ]
    return FeatureView(
        name="typed_stats",
        entity=Entity(name="user", join_keys={"user_id": "long"}),
        source=SOURCE,
        owner="tests",
        checks=NO_BATCH_CHECKS,
        features=features,
    )


def events() -> pd.DataFrame:
    """Three events of user 1 in the window: a full one, an all-null one, the latest."""

    def row(rec: str, hours_before_c: int, values: dict[str, Any]) -> dict[str, Any]:
        at = C - timedelta(hours=hours_before_c)
        return {"rec_id": rec, "user_id": 1, "event_ts": at, "ingested_ts": at, **values}

    full = {"s": "b", "n": 5, "d": 1.5, "b": True, "t": T1}
    nulls = dict.fromkeys(TYPED_COLUMNS)
    latest = {"s": "a", "n": -2, "d": 4.0, "b": False, "t": T0}
    frame = pd.DataFrame([row("r1", 3, full), row("r2", 2, nulls), row("r3", 1, latest)])
    dtypes = {"s": "string", "n": "Int64", "d": "Float64", "b": "boolean", "user_id": "int64"}
    frame = frame.astype(dtypes)
    for column in ("event_ts", "ingested_ts", "t"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    return frame


#: The hand-computed answer of every feature of :func:`typed_view` for user 1 (the doubles
#: are exact in binary, so they compare with ==).
EXPECTED: dict[str, Any] = {
    "rows_7d": 3,
    **{f"count_{c}": 2 for c in TYPED_COLUMNS},  # non-null values, not rows
    **{f"count_distinct_{c}": 2 for c in TYPED_COLUMNS},
    "sum_n": 3,
    "sum_d": 5.5,
    "avg_n": 1.5,
    "avg_d": 2.75,
    "min_s": "a",
    "min_n": -2,
    "min_d": 1.5,
    "min_b": False,
    "min_t": T0,
    "max_s": "b",
    "max_n": 5,
    "max_d": 4.0,
    "max_b": True,
    "max_t": T1,
    **{f"last_{c}": v for c, v in {"s": "a", "n": -2, "d": 4.0, "b": False, "t": T0}.items()},
}


def test_only_sum_and_avg_refuse_types_and_only_non_numeric_ones() -> None:
    refused = {
        (function, dtype)
        for function in AGGREGATIONS
        for dtype in SPARK_TYPES
        if dtype not in ACCEPTED_INPUT_TYPES[function]
    }
    assert refused == {
        (function, dtype)
        for function in ("sum", "avg")
        for dtype in ("string", "boolean", "timestamp")
    }
    assert len(accepted_pairs()) == len(AGGREGATIONS) * len(TYPED_COLUMNS) - len(refused)


def test_every_accepted_pair_materializes_to_known_values(
    spark: SparkSession, settings: Settings
) -> None:
    view = typed_view()
    folder = settings.data_root / "raw" / "typed"
    folder.mkdir(parents=True)
    frame = events()
    frame.to_parquet(folder / "part-0.parquet", index=False)

    [result] = materialize(spark, settings, view, DAY, now=utc(2026, 12, 1))

    assert result.rows == 1
    [row] = read_offline(spark, settings, view).collect()
    got = {name: _utc(row[name]) for name in EXPECTED}
    assert got == EXPECTED
    assert set(EXPECTED) == {f.name for f in view.features}
    oracle = snapshot_oracle.compute(view, frame, C).iloc[0].to_dict()
    assert {name: _utc(_plain(oracle[name])) for name in EXPECTED} == EXPECTED


def test_an_expression_must_yield_its_declared_dtype(spark: SparkSession) -> None:
    ddl = ", ".join(f"{column} {SPARK_TYPES[dtype]}" for column, dtype in SOURCE.schema.items())
    empty = spark.createDataFrame([], ddl)

    def view(expression: str, dtype: str) -> FeatureView:
        feature = Feature(name="x", function="max", expression=expression, dtype=dtype, window="1d")
        return FeatureView(
            name="typed_stats",
            entity=Entity(name="user", join_keys={"user_id": "long"}),
            source=SOURCE,
            owner="tests",
            features=[feature],
        )

    # Widenings a source column may have too: an int is a long, a decimal a double.
    check_expressions(view("CAST(n AS INT)", "long"), empty)
    check_expressions(view("d * 0.92", "double"), empty)
    check_expressions(view("n * 0.5BD", "double"), empty)
    with pytest.raises(DefinitionError) as caught:
        check_expressions(view("concat(s, 'x')", "long"), empty)
    assert str(caught.value) == (
        "feature view typed_stats: feature x: expression \"concat(s, 'x')\" yields string "
        "but dtype='long' is declared; declare the type it yields, or CAST it in the expression"
    )


def _plain(value: Any) -> Any:
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def _utc(value: Any) -> Any:
    """Spark returns timestamps as naive UTC datetimes (the session runs in UTC)."""
    if hasattr(value, "tzinfo") and hasattr(value, "hour") and value.tzinfo is None:
        return value.replace(tzinfo=T0.tzinfo)
    return value

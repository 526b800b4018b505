"""The demo generator: deterministic bytes, the declared schema, and the promised quirks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from feature_jobs.demo import DemoSummary, generate
from feature_jobs.errors import UnsafeInputError
from features.sources import transactions as transactions_source

END = date(2024, 3, 31)
SMALL = {"days": 20, "end": END, "users": 150, "merchants": 25, "seed": 3}
ARROW_TYPES = {
    "string": pa.string(),
    "long": pa.int64(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    root = tmp_path_factory.mktemp("demo")
    return root, generate(root, **SMALL)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rows(demo: tuple[Path, DemoSummary]) -> pd.DataFrame:
    return pq.read_table(demo[0] / "raw" / "transactions").to_pandas()


@pytest.fixture(scope="module")
def labels(demo: tuple[Path, DemoSummary]) -> pd.DataFrame:
    return pq.read_table(demo[0] / "raw" / "labels").to_pandas()


def files_of(root: Path) -> dict[str, bytes]:
    raw = root / "raw"
    return {str(p.relative_to(raw)): p.read_bytes() for p in sorted(raw.rglob("*")) if p.is_file()}


def test_same_arguments_write_the_same_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", **SMALL)  # type: ignore[arg-type]
    second = generate(tmp_path / "b", **SMALL)  # type: ignore[arg-type]
    other_seed = generate(tmp_path / "c", **{**SMALL, "seed": SMALL["seed"] + 1})  # type: ignore[arg-type]
    a, b, c = files_of(tmp_path / "a"), files_of(tmp_path / "b"), files_of(tmp_path / "c")
    assert len(a) == first.files + 1  # + labels.parquet
    assert a == b
    assert first.transactions == second.transactions
    assert a["labels/labels.parquet"] != c["labels/labels.parquet"]
    assert other_seed.transactions != first.transactions


def test_regenerating_replaces_the_previous_files(tmp_path: Path) -> None:
    reused, fresh = tmp_path / "reused", tmp_path / "fresh"
    longer = generate(reused, **{**SMALL, "days": 40})  # type: ignore[arg-type]
    shorter = generate(reused, **SMALL)  # type: ignore[arg-type]
    generate(fresh, **SMALL)  # type: ignore[arg-type]
    assert longer.files > shorter.files  # stale files of the first run would show
    assert files_of(reused) == files_of(fresh)
    assert not [p for p in (reused / "raw").iterdir() if p.name.startswith(".")]


def test_schema_is_the_declared_source_schema_with_utc_timestamps(
    demo: tuple[Path, DemoSummary],
) -> None:
    expected = pa.schema([(c, ARROW_TYPES[t]) for c, t in transactions_source.schema.items()])
    files = sorted((demo[0] / "raw" / "transactions").glob("*.parquet"))
    assert len(files) == demo[1].files >= 2
    for path in files:
        parquet = pq.ParquetFile(path)
        assert parquet.schema_arrow.remove_metadata() == expected
        for column in ("event_ts", "ingested_ts"):
            logical = parquet.schema.column(parquet.schema.names.index(column)).logical_type
            assert "isAdjustedToUTC=true" in str(logical)
            assert "timeUnit=microseconds" in str(logical)


def test_spark_reads_utc_timestamps_not_ntz(spark, demo: tuple[Path, DemoSummary]) -> None:  # type: ignore[no-untyped-def]
    from pyspark.sql.types import TimestampType

    frame = spark.read.parquet(str(demo[0] / "raw" / "transactions"))
    types = {f.name: f.dataType for f in frame.schema.fields}
    assert list(types) == list(transactions_source.schema)
    assert isinstance(types["event_ts"], TimestampType)
    assert isinstance(types["ingested_ts"], TimestampType)
    assert frame.count() == demo[1].rows


def test_values_stay_in_their_domains(rows: pd.DataFrame, demo: tuple[Path, DemoSummary]) -> None:
    assert not rows.isna().any().any()
    assert set(rows["currency"]) <= {"EUR", "USD", "GBP"}
    assert rows["currency"].nunique() >= 2
    assert rows["country"].str.fullmatch(r"[A-Z]{2}").all()
    assert set(rows["channel"]) == {"online", "pos"}
    assert set(rows["status"]) == {"approved", "declined"}
    assert (rows["amount"] > 0).all()
    assert rows["user_id"].between(1, SMALL["users"]).all()  # type: ignore[arg-type]
    start = datetime(2024, 3, 12, tzinfo=UTC)  # 20 days ending 2024-03-31
    assert demo[1].start == start.date()
    assert rows["event_ts"].min() >= start
    assert rows["event_ts"].max() < datetime(2024, 4, 1, tzinfo=UTC)
    assert (rows["ingested_ts"] >= rows["event_ts"]).all()
    declined = (rows.drop_duplicates("transaction_id")["status"] == "declined").mean()
    assert 0.03 < declined < 0.08


def test_duplicates_are_identical_redeliveries_in_the_stated_share(
    rows: pd.DataFrame, demo: tuple[Path, DemoSummary]
) -> None:
    summary = demo[1]
    assert len(rows) == summary.rows == summary.transactions + summary.duplicates
    deliveries = rows.groupby("transaction_id").size()
    assert deliveries.max() == 2
    assert (deliveries == 2).sum() == summary.duplicates
    assert 0.01 < summary.duplicates / summary.transactions < 0.035
    twice = rows[rows["transaction_id"].isin(deliveries[deliveries == 2].index)]
    content = [c for c in rows.columns if c != "ingested_ts"]
    assert len(twice.drop_duplicates(content)) == summary.duplicates  # same content
    assert twice.groupby("transaction_id")["ingested_ts"].nunique().eq(2).all()  # later


def test_late_events_arrive_one_to_four_days_after(
    rows: pd.DataFrame, demo: tuple[Path, DemoSummary]
) -> None:
    first = rows.sort_values("ingested_ts").drop_duplicates("transaction_id")
    delay = first["ingested_ts"] - first["event_ts"]
    late = delay >= timedelta(days=1)
    assert late.sum() == demo[1].late_events
    assert 0.015 < late.mean() < 0.05
    assert (delay[late] <= timedelta(days=4)).all()
    assert (delay[~late] <= timedelta(minutes=10)).all()


def test_midnight_events_and_equal_times_exist(
    rows: pd.DataFrame, demo: tuple[Path, DemoSummary]
) -> None:
    unique = rows.drop_duplicates("transaction_id")
    midnight = unique["event_ts"] == unique["event_ts"].dt.floor("D")
    assert midnight.sum() == demo[1].midnight_events > 0
    # Several events of one card holder at the same instant exercise the tie rule of `last`.
    same_instant = unique.groupby(["user_id", "event_ts"]).size()
    assert (same_instant > 1).any()


def test_daily_and_weekly_rhythm(rows: pd.DataFrame) -> None:
    unique = rows.drop_duplicates("transaction_id")
    hours = unique["event_ts"].dt.hour.value_counts()
    assert hours.loc[[12, 18, 19]].sum() > 4 * hours.loc[[2, 3, 4]].sum()
    per_day = unique.groupby(unique["event_ts"].dt.date).size()
    weekdays = pd.Series(per_day.index.map(lambda d: d.weekday()), index=per_day.index)
    assert per_day[weekdays == 5].mean() > per_day[weekdays == 6].mean()  # Sat > Sun


def test_labels_are_the_approved_transactions_with_delayed_chargebacks(
    rows: pd.DataFrame, labels: pd.DataFrame, demo: tuple[Path, DemoSummary]
) -> None:
    approved = rows[rows["status"] == "approved"].drop_duplicates("transaction_id")
    assert list(labels.columns) == [
        "transaction_id",
        "user_id",
        "merchant_id",
        "ts",
        "is_chargeback",
        "label_available_ts",
    ]
    assert str(labels["ts"].dtype) == "datetime64[us, UTC]"
    assert len(labels) == demo[1].labels == len(approved)
    joined = labels.merge(approved, on="transaction_id", validate="one_to_one")
    assert (joined["ts"] == joined["event_ts"]).all()
    assert (joined["user_id_x"] == joined["user_id_y"]).all()
    wait = labels["label_available_ts"] - labels["ts"]
    assert wait.between(timedelta(days=30), timedelta(days=90)).all()
    rate = labels["is_chargeback"].mean()
    assert labels["is_chargeback"].sum() == demo[1].chargebacks
    assert 0.005 < rate < 0.03
    risky = (joined["event_ts"].dt.hour < 6) | (joined["amount"] > 500)
    assert (
        joined.loc[risky, "is_chargeback"].mean() > 3 * joined.loc[~risky, "is_chargeback"].mean()
    )


@pytest.mark.parametrize("bad", [{"days": 0}, {"users": -1}, {"merchants": 1.5}, {"end": "x"}])
def test_bad_arguments_are_refused_before_writing(tmp_path: Path, bad: dict[str, object]) -> None:
    with pytest.raises(UnsafeInputError, match=next(iter(bad))):
        generate(tmp_path, **{**SMALL, **bad})  # type: ignore[arg-type]
    assert not (tmp_path / "raw").exists()

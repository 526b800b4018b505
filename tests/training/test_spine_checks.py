"""Bad spines and bad requests: one clear line each, nothing written."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from feature_jobs.cli import main
from feature_jobs.errors import LocalEngineRefused, TrainingSetError, UnsafeInputError
from feature_jobs.settings import Settings
from feature_jobs.training.local import spine as local_spine
from feature_jobs.training.paths import checked_path
from feature_jobs.training.request import resolve_features
from feature_jobs.training.spine import load_spine
from tests.training import defs
from tests.training.support import registry, write_offline, write_spine

KEYS = {"region": "string", "shop_id": "long"}
T0 = datetime(2024, 3, 2, 12, tzinfo=UTC)


def _load(spark: SparkSession, path: Path, fmt: str = "parquet") -> None:
    load_spine(spark, path, fmt, "ts", KEYS)


def test_missing_key_and_timestamp_columns_are_named(spark: SparkSession, tmp_path: Path) -> None:
    path = write_spine(spark, tmp_path / "s", [(1, T0)], "shop_id long, when timestamp")
    with pytest.raises(TrainingSetError) as err:
        _load(spark, path)
    message = str(err.value)
    assert "no column 'region'" in message and "no timestamp column 'ts'" in message
    assert "\n" not in message


def test_null_keys_and_timestamps_are_counted(spark: SparkSession, tmp_path: Path) -> None:
    rows = [("eu", 1, T0), (None, 2, T0), ("eu", None, None), ("us", 3, T0)]
    path = write_spine(spark, tmp_path / "s", rows, "region string, shop_id long, ts timestamp")
    with pytest.raises(TrainingSetError) as err:
        _load(spark, path)
    message = str(err.value)
    assert "'region' has 1 null" in message
    assert "'shop_id' has 1 null" in message
    assert "'ts' has 1 null" in message


def test_naive_parquet_timestamps_are_refused(spark: SparkSession, tmp_path: Path) -> None:
    path = write_spine(
        spark,
        tmp_path / "s",
        [("eu", 1, datetime(2024, 3, 2, 12))],
        "region string, shop_id long, ts timestamp_ntz",
    )
    with pytest.raises(TrainingSetError, match="naive timestamps \\(TIMESTAMP_NTZ\\)"):
        _load(spark, path)


def test_csv_text_times_need_an_offset(spark: SparkSession, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        "region,shop_id,ts,label\neu,1,2024-03-02T12:00:00Z,1\nus,2,2024-03-02T14:00:00+02:00,0\n"
    )
    spine = load_spine(spark, good, "csv", "ts", KEYS)
    got = spine.df.selectExpr("shop_id", "unix_micros(ts) AS us", "label").collect()
    noon = int(T0.timestamp()) * 1_000_000
    assert [(r.shop_id, r.us, r.label) for r in got] == [(1, noon, 1), (2, noon, 0)]
    assert dict(spine.df.dtypes)["shop_id"] == "bigint"

    naive = tmp_path / "naive.csv"
    naive.write_text("region,shop_id,ts\neu,1,2024-03-02 12:00:00\neu,x,2024-03-02T12:00:00Z\n")
    with pytest.raises(TrainingSetError) as err:
        load_spine(spark, naive, "csv", "ts", KEYS)
    assert "1 timestamp(s) without a time zone" in str(err.value)
    assert "'shop_id' has 1 null or unparseable" in str(err.value)


#: RFC 3339 texts of 2024-03-02 12:00 UTC, in every spelling the standard allows.
NOON_SPELLINGS = [
    "2024-03-02T12:00:00Z",
    "2024-03-02T12:00:00z",
    "2024-03-02t12:00:00z",
    "2024-03-02 12:00:00Z",
    "2024-03-02T12:00:00+00:00",
    "2024-03-02T12:00:00-00:00",
    "2024-03-02T12:00:00.000Z",
    "2024-03-02T12:00:00.000000000Z",
    "2024-03-02T14:00:00+02:00",
    "2024-03-02T07:30:00-04:30",
    "2024-03-02T14:00:00+0200",  # ISO 8601 basic offsets, accepted as before
    "2024-03-02T14:00:00+02",
    " 2024-03-02T12:00:00Z ",
]


def _text_spine(
    folder: Path, times: list[str | None], keys: list[int | None] | None = None
) -> Path:
    """A Parquet spine of text timestamps, one file of a known name (part-0.parquet)."""
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "region": ["eu"] * len(times),
            "shop_id": pa.array(keys or list(range(len(times))), pa.int64()),
            "ts": pa.array(times, pa.string()),
        }
    )
    pq.write_table(table, folder / "part-0.parquet")
    return folder


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_rfc3339_spelling_is_read_as_the_same_utc_instant(
    spark: SparkSession, tmp_path: Path, fmt: str
) -> None:
    times = [*NOON_SPELLINGS, "2024-03-02T12:00:00.25z"]
    if fmt == "csv":
        path = tmp_path / "labels.csv"
        lines = [f"eu,{i},{t}" for i, t in enumerate(times)]
        path.write_text("region,shop_id,ts\n" + "\n".join(lines) + "\n")
    else:
        path = _text_spine(tmp_path / "s", times)
    spine = load_spine(spark, path, fmt, "ts", KEYS)
    got = dict(spine.df.selectExpr("shop_id", "unix_micros(ts)").collect())
    noon = int(T0.timestamp()) * 1_000_000
    assert got == {i: noon for i in range(len(NOON_SPELLINGS))} | {
        len(NOON_SPELLINGS): noon + 250_000
    }


def _refusal(spark: SparkSession, path: Path, fmt: str) -> str:
    """The one line the Spark engine refuses the spine at ``path`` with."""
    with pytest.raises(TrainingSetError) as err:
        load_spine(spark, path, fmt, "ts", KEYS)
    return str(err.value)


def test_a_refused_csv_spine_names_its_first_bad_line_and_text(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        "region,shop_id,ts\n"
        "eu,1,2024-03-02T12:00:00Z\n"
        "eu,2,2024-03-02 12:00:00\n"  # line 3: naive
        "eu,x,2024-03-02T12:00:00z\n"  # line 4: not a number
        "eu,4,2024-03-02T12:00Z\n"  # line 5: no seconds
        "eu,5,2024-02-30T12:00:00Z\n"  # no such day
        "eu,6,2024-03-02T12:00:00.123456789Z\n"  # nanoseconds would be cut off
        "eu,7,2024-03-02T12:00:00\n"
    )
    assert _refusal(spark, path, "csv") == (
        "spine column 'shop_id' has 1 null or unparseable value(s) (first: line 4 of "
        "labels.csv, 'x'); every row needs its entity key; "
        "spine column 'ts' has 2 timestamp(s) without a time zone (first: line 3 of "
        "labels.csv, '2024-03-02 12:00:00'); add the offset (e.g. 2024-03-01T12:00:00Z); "
        "spine column 'ts' has 3 value(s) that are not RFC 3339 timestamps (first: line 5 "
        "of labels.csv, '2024-03-02T12:00Z'); write them like 2024-03-01T12:00:00Z (at "
        "most microseconds)"
    )


def test_a_refused_parquet_text_spine_names_its_first_bad_row(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = _text_spine(
        tmp_path / "s", ["2024-03-02T12:00:00z", None, "2024-03-02T12:00:00", "2024-03-02"]
    )
    assert _refusal(spark, path, "parquet") == (
        "spine column 'ts' has 1 null value(s) (first: row 2 of part-0.parquet); every row "
        "needs a timestamp; spine column 'ts' has 1 timestamp(s) without a time zone "
        "(first: row 3 of part-0.parquet, '2024-03-02T12:00:00'); add the offset (e.g. "
        "2024-03-01T12:00:00Z); spine column 'ts' has 1 value(s) that are not RFC 3339 "
        "timestamps (first: row 4 of part-0.parquet, '2024-03-02'); write them like "
        "2024-03-01T12:00:00Z (at most microseconds)"
    )
    # The local engine leaves text timestamps to Spark's engine (auto falls back to it).
    with pytest.raises(LocalEngineRefused, match="holds text timestamps"):
        local_spine.load_spine(path, "parquet", "ts", KEYS)


def test_both_engines_name_the_same_first_null_row(spark: SparkSession, tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    ts = pa.array([T0] * 3, pa.timestamp("us", "UTC"))
    for name, keys in (("b.parquet", [None, 2, None]), ("a.parquet", [1, 2, None])):
        table = pa.table({"region": ["eu"] * 3, "shop_id": pa.array(keys, pa.int64()), "ts": ts})
        pq.write_table(table, folder / name)
    expected = (
        "spine column 'shop_id' has 3 null or unparseable value(s) (first: row 3 of "
        "a.parquet); every row needs its entity key"
    )
    with pytest.raises(TrainingSetError) as by_spark:
        load_spine(spark, folder, "parquet", "ts", KEYS)
    with pytest.raises(TrainingSetError) as by_local:
        local_spine.load_spine(folder, "parquet", "ts", KEYS)
    assert str(by_spark.value) == str(by_local.value) == expected


def test_both_engines_name_the_same_first_null_row_of_a_delta_spine(
    spark: SparkSession, tmp_path: Path
) -> None:
    rows = [("eu", 1, T0), ("eu", 2, None), ("eu", 3, None)]
    path = write_spine(
        spark, tmp_path / "d", rows, "region string, shop_id long, ts timestamp", "delta"
    )
    with pytest.raises(TrainingSetError) as by_spark:
        load_spine(spark, path, "delta", "ts", KEYS)
    with pytest.raises(TrainingSetError) as by_local:
        local_spine.load_spine(path, "delta", "ts", KEYS)
    assert str(by_spark.value) == str(by_local.value)
    assert re.fullmatch(
        r"spine column 'ts' has 2 null value\(s\) \(first: row 2 of part-00000-[\w-]+"
        r"\.snappy\.parquet\); every row needs a timestamp",
        str(by_spark.value),
    )


def test_mistyped_key_column_is_refused(spark: SparkSession, tmp_path: Path) -> None:
    path = write_spine(
        spark, tmp_path / "s", [("eu", "1", T0)], "region string, shop_id string, ts timestamp"
    )
    with pytest.raises(
        TrainingSetError, match="'shop_id' is string but the entity declares it long"
    ):
        _load(spark, path)


def test_unknown_features_and_services_are_refused() -> None:
    reg = registry()
    with pytest.raises(TrainingSetError, match="has no feature 'nope'"):
        resolve_features(reg, ["shop_daily:nope"], None)
    with pytest.raises(TrainingSetError, match="unknown feature view 'ghost'"):
        resolve_features(reg, ["ghost:x"], None)
    with pytest.raises(TrainingSetError, match="unknown feature service"):
        resolve_features(reg, None, "ghost")
    with pytest.raises(TrainingSetError, match="requested twice"):
        resolve_features(reg, ["shop_daily:orders_7d", "shop_daily:orders_7d"], None)


def test_paths_outside_the_data_root_are_refused(settings: Settings, tmp_path: Path) -> None:
    settings.data_root.mkdir(parents=True)
    inside = settings.data_root / "spine"
    assert checked_path(str(inside), settings, "--spine") == inside.resolve()
    for bad in (tmp_path / "elsewhere", settings.data_root / ".." / "x", "s3a://bucket/spine"):
        with pytest.raises(UnsafeInputError, match="--spine"):
            checked_path(str(bad), settings, "--spine")
    link = settings.data_root / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(UnsafeInputError, match="outside the data root"):
        checked_path(str(link / "spine"), settings, "--spine")


@pytest.mark.parametrize("engine", ["spark", "local"])
def test_cli_prints_one_line_and_writes_nothing(
    spark: SparkSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: str,
) -> None:
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("SKEWLESS_FEATURES", "tests.training.defs")
    # The view exists, so the build gets as far as the join: the spine checks running
    # beside it must cancel it and leave nothing behind.
    write_offline(
        spark, settings, defs.pair_daily, {T0: {("eu", 1): {"orders_1d": 2, "amount_min_1d": 1.5}}}
    )
    spine = write_spine(
        spark,
        settings.data_root / "spine",
        [("eu", None, T0)],
        "region string, shop_id long, ts timestamp",
    )
    output = settings.data_root / "out" / "train"
    code = main(
        [
            "training-set",
            "--spine",
            str(spine),
            "--features",
            "pair_daily:orders_1d",
            "--output",
            str(output),
            "--engine",
            engine,
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("error: spine column 'shop_id' has 1 null")
    assert not output.exists()
    # No staging folder left behind (the local engine checks the spine before any folder).
    assert not output.parent.exists() or list(output.parent.iterdir()) == []

    outside = main(
        [
            "training-set",
            "--spine",
            "/etc",
            "--features",
            "pair_daily:orders_1d",
            "--output",
            str(output),
        ]
    )
    assert outside == 2
    assert "outside the data root" in capsys.readouterr().err

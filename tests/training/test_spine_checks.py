"""Bad spines and bad requests: one clear line each, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feature_jobs.cli import main
from feature_jobs.errors import TrainingSetError, UnsafeInputError
from feature_jobs.settings import Settings
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

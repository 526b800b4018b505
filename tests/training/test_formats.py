"""Spine and output formats through the CLI: CSV or Delta in, Delta or Parquet out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feature_jobs.cli import main
from feature_jobs.settings import Settings
from tests.training import defs
from tests.training.support import collect_micros, micros, utc, write_offline, write_spine


def test_csv_spine_to_delta_output_and_delta_spine_to_parquet(
    spark: SparkSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("SKEWLESS_FEATURES", "tests.training.defs")
    write_offline(
        spark,
        settings,
        defs.pair_daily,
        {utc(2024, 3, 2): {("eu", 1): {"orders_1d": 2, "amount_min_1d": 1.5}}},
    )
    csv = settings.data_root / "labels.csv"
    csv.write_text(
        "when,shop_id,region,is_fraud\n"
        "2024-03-02T06:00:00Z,1,eu,true\n"
        "2024-03-02T08:00:00+02:00,1,eu,false\n"  # 06:00 UTC, written with an offset
        "2024-03-01T06:00:00Z,1,eu,false\n"  # before the first snapshot
    )
    out = settings.data_root / "train_delta"
    args = ["training-set", "--spine", str(csv), "--feature-service", "pairs_only"]
    args += ["--timestamp-column", "when", "--output", str(out), "--output-format", "delta"]
    assert main(args) == 0
    assert (out / "_delta_log").is_dir()
    rows = collect_micros(spark.read.format("delta").load(str(out)))
    six = micros(utc(2024, 3, 2, 6))
    assert [(r["when"], r["is_fraud"], r["pair_daily__orders_1d"]) for r in rows] == [
        (six, True, 2),
        (six, False, 2),
        (micros(utc(2024, 3, 1, 6)), False, 0),
    ]
    assert [r["pair_daily__status"] for r in rows] == ["PRESENT", "PRESENT", "MISSING"]
    manifest = json.loads(Path(f"{out}.manifest.json").read_text())
    assert manifest["feature_service"] == "pairs_only"
    assert manifest["spine"]["format"] == "csv"
    printed = capsys.readouterr().out
    assert "done: 3 rows written" in printed
    assert "engine: spark (spine" in printed and "is CSV" in printed  # auto fell back

    delta_spine = write_spine(
        spark,
        settings.data_root / "spine_delta",
        [("eu", 1, utc(2024, 3, 2, 23)), ("us", 1, utc(2024, 3, 2, 23))],
        "region string, shop_id long, ts timestamp",
        fmt="delta",
    )
    parquet_out = settings.data_root / "train_parquet"
    args = ["training-set", "--spine", str(delta_spine), "--features", "pair_daily:orders_1d"]
    assert main([*args, "--output", str(parquet_out)]) == 0
    # The Delta spine went to the local engine (auto, local master, small inputs).
    assert "by the local engine" in capsys.readouterr().out
    rows = sorted(collect_micros(spark.read.parquet(str(parquet_out))), key=lambda r: r["region"])
    assert [(r["region"], r["pair_daily__orders_1d"], r["pair_daily__status"]) for r in rows] == [
        ("eu", 2, "PRESENT"),
        ("us", 0, "MISSING"),
    ]
    assert (
        json.loads(Path(f"{parquet_out}.manifest.json").read_text())["spine"]["format"] == "delta"
    )
    # An existing output is refused unless --overwrite is given.
    assert main([*args, "--output", str(parquet_out)]) == 2
    assert "already exists" in capsys.readouterr().err
    # Written as Delta by the local engine, read back by Spark: the same rows.
    delta_out = settings.data_root / "train_local_delta"
    local = ["--output", str(delta_out), "--output-format", "delta", "--engine", "local"]
    assert main([*args, *local]) == 0
    again = collect_micros(spark.read.format("delta").load(str(delta_out)))
    assert sorted(again, key=repr) == sorted(rows, key=repr)

    # A CSV spine's types are Spark's to infer: auto used Spark, local refuses in one line.
    refused = settings.data_root / "train_csv_local"
    csv_args = ["training-set", "--spine", str(csv), "--feature-service", "pairs_only"]
    csv_args += ["--timestamp-column", "when", "--output", str(refused), "--engine", "local"]
    assert main(csv_args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: spine ") and "is CSV" in err[-1]
    assert not refused.exists()

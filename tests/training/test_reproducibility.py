"""Manifests: a rebuild after a backfill gives the same checksum; a vacuumed version fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from feature_jobs.cli import main
from feature_jobs.offline import view_table
from feature_jobs.settings import Settings
from feature_jobs.spark.scoped_conf import scoped_conf
from tests.support.fresh_process import run_fresh
from tests.training import defs
from tests.training.support import replace_snapshot, utc, write_offline, write_spine

D2, D3, D4 = utc(2024, 3, 2), utc(2024, 3, 3), utc(2024, 3, 4)


def _snap(orders: int) -> dict[tuple[int], dict[str, object]]:
    return {(1,): {"orders_7d": orders, "amount_sum_7d": 2.0 * orders}, (2,): {"orders_7d": 1}}


def _cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("SKEWLESS_FEATURES", "tests.training.defs")
    monkeypatch.setenv("SKEWLESS_PROJECT", settings.project)
    return main(["training-set", *args])


def test_rebuild_from_manifest_after_backfill_then_vacuum(
    spark: SparkSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = defs.shop_daily
    write_offline(spark, settings, view, {D2: _snap(3), D3: _snap(4)})
    rows = [
        (1, utc(2024, 3, 2, 6)),
        (2, utc(2024, 3, 3, 6)),
        (1, utc(2024, 3, 3, 23)),
        (1, utc(2024, 3, 4, 6)),
    ]
    spine = write_spine(spark, settings.data_root / "spine", rows, "shop_id long, ts timestamp")
    first = settings.data_root / "train" / "v1"
    features = "shop_daily:orders_7d,shop_daily:amount_sum_7d"
    assert (
        _cli(
            settings,
            monkeypatch,
            "--spine",
            str(spine),
            "--features",
            features,
            "--output",
            str(first),
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert (
        "rows using future values: 0 of 4; a naive latest-value join would have used values "
        "from after the row's timestamp in 1 (25.0%) (shop_daily 1)"
    ) in printed
    manifest_file = Path(f"{first}.manifest.json")
    manifest = json.loads(manifest_file.read_text())
    assert manifest["mode"] == "event-time"
    assert manifest["views"]["shop_daily"]["delta_version"] == 0
    assert manifest["views"]["shop_daily"]["definition_version"] == view.version
    assert manifest["output"]["rows"] == 4
    # A naive latest-value join gives shop 1 at 03-02 06:00 the values of D3.
    assert manifest["leakage"]["naive_join_rows_using_future_values"] == 1
    assert manifest["leakage"]["rows_using_future_values"] == 0
    assert manifest["leakage"]["summary"].startswith("rows using future values: 0 of 4;")
    assert manifest["code_version"]["skewless"]

    # A backfill of D3 and a new snapshot D4 change what a fresh build sees...
    replace_snapshot(spark, settings, view, D3, _snap(40))
    write_offline(spark, settings, view, {D4: _snap(50)})
    fresh = settings.data_root / "train" / "fresh"
    assert (
        _cli(
            settings,
            monkeypatch,
            "--spine",
            str(spine),
            "--features",
            features,
            "--output",
            str(fresh),
        )
        == 0
    )
    fresh_manifest = json.loads(Path(f"{fresh}.manifest.json").read_text())
    assert fresh_manifest["output"]["checksum"] != manifest["output"]["checksum"]

    # ...but the rebuild reads the pinned version and gives the identical output.
    rebuilt = settings.data_root / "train" / "rebuilt"
    assert (
        _cli(settings, monkeypatch, "--from-manifest", str(manifest_file), "--output", str(rebuilt))
        == 0
    )
    rebuilt_manifest = json.loads(Path(f"{rebuilt}.manifest.json").read_text())
    assert rebuilt_manifest["output"]["checksum"] == manifest["output"]["checksum"]
    assert rebuilt_manifest["views"]["shop_daily"]["delta_version"] == 0
    original = sorted(spark.read.parquet(str(first)).collect(), key=repr)
    assert sorted(spark.read.parquet(str(rebuilt)).collect(), key=repr) == original
    capsys.readouterr()

    # Once version 0's files are vacuumed, the rebuild fails loudly and writes nothing.
    # A vacuum outside skewless, below Delta's own check (its file listing in 2 tasks,
    # not 10,000: a minute less).
    unchecked = {
        "spark.databricks.delta.retentionDurationCheck.enabled": "false",
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
    }
    with scoped_conf(spark, unchecked):
        DeltaTable.forPath(spark, view_table(settings, view.name)).vacuum(0.0)
    gone = settings.data_root / "train" / "gone"
    code = _cli(settings, monkeypatch, "--from-manifest", str(manifest_file), "--output", str(gone))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "was vacuumed" in err[-1] and "Delta version 0" in err[-1]
    assert not gone.exists()
    assert sorted(p.name for p in gone.parent.iterdir()) == sorted(
        [
            "v1",
            "v1.manifest.json",
            "fresh",
            "fresh.manifest.json",
            "rebuilt",
            "rebuilt.manifest.json",
        ]
    )


def test_silencing_query_errors_keeps_pyspark_loggers_working(tmp_path: Path) -> None:
    # In a fresh process, so this test cannot pass because another test made them first.
    probe = (
        "import logging\n"
        "from pyspark.logger import PySparkLogger\n"
        "from feature_jobs.offline.versions import _quiet_query_errors\n"
        "with _quiet_query_errors():\n"
        "    pass\n"
        "kinds = [type(logging.getLogger(n)).__name__\n"
        "         for n in ('SQLQueryContextLogger', 'DataFrameQueryContextLogger')]\n"
        "print('KINDS', kinds)\n"
    )
    output = run_fresh(probe, tmp_path)
    assert "KINDS ['PySparkLogger', 'PySparkLogger']" in output, output[-500:]

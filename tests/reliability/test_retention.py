"""Retention: VACUUM below the horizon a manifest depends on is refused; without the
guard (manifest gone from the data root) the rebuild fails loudly, writing nothing."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from feature_jobs.cli import main
from feature_jobs.materialize import materialize
from feature_jobs.settings import Settings
from tests.reliability.history import D2, snapshot_time, write_spine
from tests.reliability.invariants import USER_STATS

pytestmark = pytest.mark.slow


def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("SKEWLESS_PROJECT", settings.project)
    monkeypatch.setenv("SKEWLESS_FEATURES", "tests.reliability.defs")
    return main(list(args))


@pytest.fixture
def short_retention_allowed(spark):  # type: ignore[no-untyped-def]
    """Let Delta vacuum below its own 7-day check, so only our guard stands in the way."""
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    yield
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "true")


def test_vacuum_guard_protects_pinned_versions(
    spark, warehouse: Settings, monkeypatch, capsys, tmp_path: Path, short_retention_allowed
) -> None:
    settings = warehouse
    spine = write_spine(
        settings.data_root / "spines" / "labels.parquet",
        list(range(10)),
        [snapshot_time(D2) + timedelta(hours=6)],
    )
    first = settings.data_root / "train" / "first"
    features = "user_stats:count_7d,user_stats:sum_7d"
    args = ["training-set", "--spine", str(spine), "--features", features, "--output"]
    assert cli(settings, monkeypatch, *args, str(first)) == 0
    manifest = Path(f"{first}.manifest.json")
    pinned = json.loads(manifest.read_text())
    assert pinned["views"]["user_stats"]["delta_version"] == 1  # D1 is v0, D2 is v1

    # A backfill of D2 makes version 2, whose commit removes version 1's files.
    materialize(spark, settings, USER_STATS, D2, run_id="backfill")
    capsys.readouterr()

    assert cli(settings, monkeypatch, "vacuum", "--view", "user_stats", "--retain-hours", "0") == 3
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "would delete files of Delta version 1, pinned by" in err
    assert str(manifest) in err and "--retain-hours" in err

    # A retention covering the pinned version runs, and the rebuild is still identical.
    assert cli(settings, monkeypatch, "vacuum", "--view", "user_stats", "--retain-hours", "2") == 0
    rebuilt = settings.data_root / "train" / "rebuilt"
    assert cli(settings, monkeypatch, "training-set", "--from-manifest", str(manifest),
               "--output", str(rebuilt)) == 0  # fmt: skip
    again = json.loads(Path(f"{rebuilt}.manifest.json").read_text())
    assert again["output"]["checksum"] == pinned["output"]["checksum"]

    # Take the manifests out of the data root: nothing pins version 1 any more, the
    # vacuum goes through, and a rebuild from the old manifest fails loudly.
    kept = tmp_path / "kept.manifest.json"
    shutil.copy(manifest, kept)
    for path in (settings.data_root / "train").glob("*.manifest.json"):
        path.unlink()
    assert cli(settings, monkeypatch, "vacuum", "--view", "user_stats", "--retain-hours", "0") == 0
    shutil.copy(kept, manifest)
    capsys.readouterr()
    gone = settings.data_root / "train" / "gone"
    code = cli(settings, monkeypatch, "training-set", "--from-manifest", str(manifest),
               "--output", str(gone))  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and "Delta version 1" in err and "was vacuumed" in err
    assert not gone.exists()

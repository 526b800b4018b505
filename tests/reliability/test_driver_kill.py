"""Spark driver SIGKILLed during the Delta write, then after the commit: re-runs converge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feature_jobs.materialize import materialize, materialize_range
from feature_jobs.offline import locks_folder, view_table
from feature_jobs.online.publish import read_live
from feature_jobs.online.sync import sync
from tests.reliability.history import D1, D2, D3, oracle_snapshot, served_values, snapshot_time
from tests.reliability.invariants import (
    USER_STATS,
    SnapshotReader,
    assert_offline_equals_recomputation,
    assert_redis_serves,
    commits_per_run,
    days_seen,
    offline_values,
)
from tests.reliability.processes import cli_env, kill_group, start, wait_until

pytestmark = pytest.mark.slow


def _versions(table: Path) -> list[str]:
    return sorted(p.name for p in (table / "_delta_log").glob("*.json"))


def _kill_materialize_at(point: str, settings, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    """Run ``materialize --date D3`` until ``point``, then SIGKILL its process group."""
    marker, log = tmp_path / f"{point}.marker", tmp_path / f"{point}.log"
    args = [point, str(marker), "--", "materialize", "--view", "user_stats"]
    args += ["--date", D3.isoformat(), "--run-id", point]
    process = start(args, cli_env(settings), log, module="tests.reliability.crashing_job")
    partition = Path(view_table(settings, "user_stats")) / f"snapshot_date={D3}"

    def reached() -> bool:
        # during_write: also wait for the writer to have opened its data file.
        return marker.exists() and (point != "during_write" or any(partition.glob("*.parquet")))

    wait_until(reached, process, log, point)
    return kill_group(process)


def test_driver_killed_during_the_write_then_after_the_commit(spark, warehouse, client, tmp_path):
    settings, view = warehouse, USER_STATS
    table = Path(view_table(settings, view.name))
    sync(spark, settings, view, D2, run_id="sync-d2")
    expected = {D2: offline_values(spark, settings, view, D2)}
    expected[D3] = served_values(oracle_snapshot(settings.data_root, view, D3), view)
    before = _versions(table)
    reader = SnapshotReader(settings, expected)
    reader.start()
    try:
        # 1. Killed inside the write job: data files are on disk, no commit exists.
        assert _kill_materialize_at("during_write", settings, tmp_path) == -9
        assert _versions(table) == before
        assert list((table / f"snapshot_date={D3}").glob("*.parquet")), "no orphan file"
        assert offline_values(spark, settings, view, D3) == {}
        live = read_live(client, settings.project, view.name)
        assert live is not None and live.meta.feature_ts == snapshot_time(D2)

        # 2. Killed after the commit, before anything synced it; its lock stays behind.
        assert _kill_materialize_at("after_commit", settings, tmp_path) == -9
        assert len(_versions(table)) == len(before) + 1
        assert_offline_equals_recomputation(spark, settings, view, D3)
        live = read_live(client, settings.project, view.name)
        assert live is not None and live.meta.feature_ts == snapshot_time(D2)
        lock = locks_folder(settings) / "materialize" / "user_stats" / f"{D3}.lock"
        assert json.loads(lock.read_text())["run_id"] == "after_commit"

        # 3. The re-run takes the dead run's lock over and converges; the sync publishes.
        result = materialize(spark, settings, view, D3, run_id="rerun")
        assert result[0].rows == len(expected[D3])
        published = sync(spark, settings, view, D3, run_id="sync-d3")
        assert published.published
    finally:
        reader.finish()

    for day in (D1, D2):
        assert_offline_equals_recomputation(spark, settings, view, day)
    d3 = assert_offline_equals_recomputation(spark, settings, view, D3)
    assert_redis_serves(settings, client, view, D3, d3)
    assert days_seen(reader) == [D2, D3]
    commits = commits_per_run(spark, settings, view)
    d3_ts = snapshot_time(D3).date().isoformat()
    assert commits[(d3_ts, "during_write")] == 0
    assert commits[(d3_ts, "after_commit")] == 1
    assert commits[(d3_ts, "rerun")] == 1
    assert max(commits.values()) == 1
    assert not lock.exists()  # released by the re-run


def test_driver_killed_during_a_range_write_commits_nothing_and_a_rerun_converges(
    spark, warehouse, tmp_path
):
    """A backfill of D1..D3 (D1, D2 already there) killed inside its one Delta write."""
    settings, view = warehouse, USER_STATS
    table = Path(view_table(settings, view.name))
    before = _versions(table)
    kept = {day: offline_values(spark, settings, view, day) for day in (D1, D2)}
    files_before = set(table.rglob("*.parquet"))
    marker, log = tmp_path / "range.marker", tmp_path / "range.log"
    args = ["during_write", str(marker), "--", "materialize", "--view", "user_stats"]
    args += ["--start", D1.isoformat(), "--end", D3.isoformat(), "--run-id", "range"]
    process = start(args, cli_env(settings), log, module="tests.reliability.crashing_job")

    def reached() -> bool:
        return marker.exists() and bool(set(table.rglob("*.parquet")) - files_before)

    wait_until(reached, process, log, "during_write")
    assert kill_group(process) == -9

    assert _versions(table) == before  # no commit: not one date of the range changed
    assert {day: offline_values(spark, settings, view, day) for day in (D1, D2)} == kept
    assert offline_values(spark, settings, view, D3) == {}

    results = materialize_range(spark, settings, view, [D1, D2, D3], run_id="rerun")
    assert [r.snapshot_date for r in results] == [D1, D2, D3]
    assert len({r.delta_version for r in results}) == 1
    assert len(_versions(table)) == len(before) + 1
    for day in (D1, D2, D3):
        assert_offline_equals_recomputation(spark, settings, view, day)
    commits = commits_per_run(spark, settings, view)
    d3_ts = snapshot_time(D3).date().isoformat()
    assert commits[(d3_ts, "range")] == 0
    assert commits[(d3_ts, "rerun")] == 1

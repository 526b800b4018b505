"""A backfill range in one job gives exactly what materializing its dates one by one gives.

Two copies of the same demo history, with bad payments landing two days before the end
(their snapshots, and the later ones whose windows hold them, fail validation): one copy
is materialized as one range, the other one date per call. The offline tables, the
profiles (the drift baselines chain across the range) and the quarantine reports agree;
the range is one Delta commit and re-running it changes nothing.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from feature_jobs.definitions import FeatureView, load_registry
from feature_jobs.demo.bad_data import inject_bad_data
from feature_jobs.demo.generator import generate
from feature_jobs.errors import SnapshotsRefused, ValidationFailed
from feature_jobs.materialize import MaterializeResult, materialize, materialize_range
from feature_jobs.offline import profiles_table, quarantine_table, read_offline, view_table
from feature_jobs.settings import Settings
from feature_jobs.timeutil import date_range, day_start

END = date(2026, 3, 12)
DAYS = date_range(date(2026, 3, 7), END)
BAD = END - timedelta(days=2)
NOW = day_start(END) + timedelta(days=2)
VIEW = "user_transaction_stats"


def _settings(root: Path, name: str) -> Settings:
    # 40 days of events: every window of the materialized days is full (no warm-up), so
    # their drift checks run and the baselines chain across the range.
    generate(root, days=40, end=END, users=80, merchants=15, seed=5)
    inject_bad_data(root, BAD)
    return Settings.from_env({"SKEWLESS_DATA_ROOT": str(root), "SKEWLESS_PROJECT": name})


@pytest.fixture(scope="module")
def runs(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    view = load_registry("features").view(VIEW)
    ranged = _settings(tmp_path_factory.mktemp("range"), "ranged")
    with pytest.raises(SnapshotsRefused) as refused:
        materialize_range(spark, ranged, view, DAYS, run_id="range", now=NOW)
    daily = _settings(tmp_path_factory.mktemp("daily"), "daily")
    failed_days = []
    for day in DAYS:
        try:
            materialize(spark, daily, view, day, run_id=f"day-{day}", now=NOW)
        except ValidationFailed:
            failed_days.append(day)
    return {
        "view": view,
        "ranged": ranged,
        "daily": daily,
        "refused": refused.value,
        "failed_days": failed_days,
    }


def _content(spark: SparkSession, settings: Settings, view: FeatureView) -> list[tuple]:  # type: ignore[type-arg]
    table = read_offline(spark, settings, view)
    columns = [c for c in table.columns if c not in ("run_id", "materialized_at")]
    return sorted(map(tuple, table.select(columns).collect()))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _profiles(spark: SparkSession, settings: Settings) -> dict[tuple, tuple]:  # type: ignore[type-arg]
    rows = spark.read.format("delta").load(profiles_table(settings)).collect()
    return {
        (r["feature_ts"], r["column"]): (
            r["status"],
            r["row_count"],
            r["null_count"],
            r["mean"],
            r["min"],
            r["max"],
            r["percentiles"],
            r["psi"],
        )
        for r in rows
    }


def _reports(spark: SparkSession, settings: Settings) -> list[tuple]:  # type: ignore[type-arg]
    rows = spark.read.format("delta").load(quarantine_table(settings)).collect()
    return sorted(
        (r["feature_ts"], r["check"], r["column"] or "", r["blocking"], r["failing_rows"] or 0)
        for r in rows
    )


def test_refused_snapshots_are_the_same_and_the_others_commit(runs: dict[str, Any]) -> None:
    refused: SnapshotsRefused = runs["refused"]
    assert runs["failed_days"] == [BAD, BAD + timedelta(days=1), END]
    assert str(refused).startswith(f"feature view {VIEW} {BAD}: validation failed")
    assert "2 other snapshot(s) failed too" in str(refused)
    committed = refused.committed
    assert all(isinstance(r, MaterializeResult) for r in committed)
    assert [r.snapshot_date for r in committed] == DAYS[:-3]  # type: ignore[attr-defined]


def test_offline_tables_are_equal_row_for_row(spark: SparkSession, runs: dict[str, Any]) -> None:
    ranged = _content(spark, runs["ranged"], runs["view"])
    daily = _content(spark, runs["daily"], runs["view"])
    assert len(ranged) == len(daily) > 0
    assert {r[-2] for r in ranged} == set(DAYS[:-3])  # snapshot_date
    for a, b in zip(ranged, daily, strict=True):
        assert _same(a, b), (a, b)


def test_profiles_and_reports_are_equal(spark: SparkSession, runs: dict[str, Any]) -> None:
    ranged = _profiles(spark, runs["ranged"])
    daily = _profiles(spark, runs["daily"])
    assert ranged.keys() == daily.keys()
    for key in ranged:
        assert _same(ranged[key], daily[key]), (key, ranged[key], daily[key])
    # The drift checks compared each day with the passed ones before it: PSI is set from
    # day 2 on for the windows of a week or more (shorter ones wait for a whole week).
    measured = {key[0] for key, v in ranged.items() if v[-1] is not None}
    assert len(measured) >= 2
    assert _reports(spark, runs["ranged"]) == _reports(spark, runs["daily"])


def test_a_range_is_one_commit_and_a_rerun_changes_nothing(
    spark: SparkSession, runs: dict[str, Any]
) -> None:
    settings, view = runs["ranged"], runs["view"]
    log = Path(view_table(settings, VIEW)) / "_delta_log"
    assert len(list(log.glob("*.json"))) == 1
    before = _content(spark, settings, view)
    with pytest.raises(SnapshotsRefused):
        materialize_range(spark, settings, view, DAYS, run_id="again", now=NOW)
    assert _content(spark, settings, view) == before
    assert len(list(log.glob("*.json"))) == 2

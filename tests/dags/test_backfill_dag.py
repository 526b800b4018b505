"""The backfill DAG under ``dag.test()``: a range job for the view picked, and a bad request.

The DAG is built from two of the demo's views (``tests/dags/two_views.py``); the run picks
one of them over three days, so it costs three spark-submits (materialize of the range,
sync and check of its newest day) and shows that the other view's group is skipped.
Airflow's own backfill of the daily DAG is ``test_backfill.py``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feature_jobs.definitions import load_registry
from feature_jobs.demo import generate
from feature_jobs.offline import read_offline, view_table
from feature_jobs.online.connection import connect
from feature_jobs.online.publish import read_live
from feature_jobs.settings import Settings
from tests.dags.harness import airflow_env, run_dag

pytestmark = pytest.mark.slow

# Tuesday to Thursday: weekday volumes, so the day-over-day drift checks stay quiet.
START, END = date(2026, 3, 24), date(2026, 3, 26)
DEFINITIONS = "tests.dags.two_views"
REGISTRY = load_registry(DEFINITIONS)
PICKED, OTHER = "merchant_transaction_stats", "user_transaction_stats"
# A manual run: the logical date only names the run, the form says what to recompute.
WHEN = datetime(2026, 4, 1, tzinfo=UTC)


def _snapshot_time(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def _live(settings: Settings, view: str) -> datetime | None:
    assert settings.redis_url is not None
    client = connect(settings.redis_url)
    try:
        live = read_live(client, settings.project, view)
    finally:
        client.close()
    return None if live is None else live.meta.feature_ts


def test_range_of_the_picked_view_is_materialized_in_one_job_and_its_end_served(
    spark: Any, settings: Settings, redis_server: Any, airflow_home: Path, tmp_path: Path
) -> None:
    from pyspark.sql import functions as F

    settings = replace(
        settings,
        redis_url=redis_server.url,
        alert_jsonl=tmp_path / "alerts.jsonl",
        features_module=DEFINITIONS,
    )
    generate(settings.data_root, days=12, end=END, users=80, merchants=10, seed=21)
    conf = {"views": [PICKED], "start": START.isoformat(), "end": END.isoformat()}
    log = tmp_path / "run.log"

    result = run_dag(airflow_env(airflow_home, settings), "skewless_backfill", WHEN, conf, log=log)

    assert result["state"] == "success", result["tasks"]
    steps = ("materialize", "sync", "check")
    assert result["tasks"] == {
        "check_request": "success",
        **{f"{PICKED}.{step}": "success" for step in steps},
        **{f"{OTHER}.{step}": "skipped" for step in steps},
    }
    text = log.read_text()
    assert f"backfill request checked: {PICKED} from {START} to {END} (3 day(s))" in text
    # Exactly the range's dates, every one with rows and values, all from this run's job.
    per_day = (
        read_offline(spark, settings, REGISTRY.view(PICKED))
        .groupBy("snapshot_date")
        .agg(
            F.count("*").alias("rows"),
            F.sum("txn_count_7d").alias("txns"),
            F.collect_set("run_id").alias("run_ids"),
        )
        .orderBy("snapshot_date")
        .collect()
    )
    assert [r["snapshot_date"] for r in per_day] == [START, START + timedelta(days=1), END]
    assert all(r["rows"] > 0 and r["txns"] > 0 for r in per_day), per_day
    assert {run_id for r in per_day for run_id in r["run_ids"]} == {result["run_id"]}
    # The newest day is served, and the check found Redis equal to Delta.
    assert _live(settings, PICKED) == _snapshot_time(END)
    assert f"{PICKED} {END}: ok: " in text
    # The view not picked: nothing computed, nothing published.
    assert not Path(view_table(settings, OTHER)).exists()
    assert _live(settings, OTHER) is None
    alerts = settings.alert_jsonl.read_text() if settings.alert_jsonl.exists() else ""
    assert not [a for a in map(json.loads, alerts.splitlines()) if a["severity"] == "failure"]


def test_end_before_start_stops_in_check_request_before_spark(
    settings: Settings, airflow_home: Path, tmp_path: Path
) -> None:
    # Both dates are well-formed, so the form lets the run start; the task refuses it.
    settings = replace(settings, features_module=DEFINITIONS)
    conf = {"views": sorted(REGISTRY.views), "start": END.isoformat(), "end": START.isoformat()}
    log = tmp_path / "run.log"

    result = run_dag(
        airflow_env(airflow_home, settings), "skewless_backfill", WHEN + timedelta(days=1),
        conf, log=log,
    )  # fmt: skip

    assert result["state"] == "failed"
    assert result["tasks"] == {
        "check_request": "failed",
        **{
            f"{view}.{step}": "upstream_failed"
            for view in REGISTRY.views
            for step in ("materialize", "sync", "check")
        },
    }
    text = log.read_text()
    assert f"end {START} is before start {END}; set end on or after start" in text
    assert "spark-submit" not in text
    assert not any(Path(view_table(settings, view)).exists() for view in REGISTRY.views)

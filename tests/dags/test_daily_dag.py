"""The daily DAG under ``dag.test()``: bad data for one view, the other one unaffected.

The first day is materialized and published in-process, as a previous run would have
left it; the DAG then runs the second day, with bad data for one view. The DAG is built
from two of the demo's views (``tests/dags/two_views.py``), one per entity: each task is
a spark-submit of about 30 s, the cost of this test.

Every task is a real spark-submit of ``feature_jobs/spark_entry.py`` (Spark local[2],
Delta, Pandera gate) publishing to a real redis-server. Run dates: a manual run at
logical date X covers the data interval [X - 1 day, X), so it materializes X - 1 day.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from feature_jobs.definitions import load_registry
from feature_jobs.demo import generate
from feature_jobs.demo.generator import TRANSACTIONS_SCHEMA
from feature_jobs.materialize import materialize
from feature_jobs.offline import view_table
from feature_jobs.online.connection import connect
from feature_jobs.online.publish import read_live
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from tests.dags.harness import airflow_env, run_dag

pytestmark = pytest.mark.slow

# Tuesday and Wednesday: weekday volumes, so the day-over-day drift checks stay quiet.
D1, D2 = date(2026, 3, 24), date(2026, 3, 25)
DEFINITIONS = "tests.dags.two_views"
VIEWS = sorted(load_registry(DEFINITIONS).views)
BROKEN = "user_transaction_stats"  # the only view with a feature computed from `country`
BAD_USER = 987_654


def _run_for(day: date) -> datetime:
    """The logical date of a manual run whose data interval is ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def _snapshot_time(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def _inject_lowercase_country(data_root: Path, day: date) -> None:
    """A late-evening payment from a country code in lower case: only the user view's
    ``last_country`` (``^[A-Z]{2}$``) breaks; the other views never read ``country``."""
    at = datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC)
    row = {
        "transaction_id": "bad-country-1", "user_id": BAD_USER, "merchant_id": 1,
        "amount": 12.5, "currency": "EUR", "country": "zz", "channel": "pos",
        "status": "approved", "event_ts": at, "ingested_ts": at + timedelta(minutes=2),
    }  # fmt: skip
    table = pa.Table.from_pylist([row], schema=TRANSACTIONS_SCHEMA)
    pq.write_table(table, data_root / "raw" / "transactions" / "zz-bad-country.parquet")


def _snapshots(spark: Any, settings: Settings, view: str) -> list[datetime]:
    frame = spark.read.format("delta").load(view_table(settings, view))
    rows = frame.select("feature_ts").distinct().orderBy("feature_ts").collect()
    return [r["feature_ts"].replace(tzinfo=UTC) for r in rows]


def _live(settings: Settings, view: str) -> datetime:
    assert settings.redis_url is not None
    client = connect(settings.redis_url)
    try:
        live = read_live(client, settings.project, view)
    finally:
        client.close()
    assert live is not None, f"nothing live for {view}"
    return live.meta.feature_ts


def test_two_days_and_bad_data_for_one_view_on_the_second(
    spark: Any, settings: Settings, redis_server: Any, airflow_home: Path, tmp_path: Path
) -> None:
    settings = replace(
        settings,
        redis_url=redis_server.url,
        alert_jsonl=tmp_path / "alerts.jsonl",
        features_module=DEFINITIONS,
    )
    generate(settings.data_root, days=12, end=D2, users=80, merchants=10, seed=21)
    env = airflow_env(airflow_home, settings)
    # The first day, as the previous run left it: in Delta (with its profile, the second
    # day's drift baseline) and live online.
    for definition in load_registry(DEFINITIONS).views.values():
        materialize(spark, settings, definition, D1, run_id="scheduled__first_day")
        assert sync(spark, settings, definition, D1).published
        assert _snapshots(spark, settings, definition.name) == [_snapshot_time(D1)]
        assert _live(settings, definition.name) == _snapshot_time(D1)

    _inject_lowercase_country(settings.data_root, D2)
    second = run_dag(env, "skewless_daily", _run_for(D2), log=tmp_path / f"{D2}.log")
    assert second["data_interval_start"].startswith(D2.isoformat())
    assert second["state"] == "failed"
    tasks = second["tasks"]
    healthy = [view for view in VIEWS if view != BROKEN]
    assert healthy
    for view in healthy:
        # The other groups ran to the end: both days in Delta, the second one served,
        # and the consistency check found Redis equal to Delta.
        assert {tasks[f"{view}.{step}"] for step in ("materialize", "sync", "check")} == {"success"}
        assert _snapshots(spark, settings, view) == [_snapshot_time(D1), _snapshot_time(D2)]
        assert _live(settings, view) == _snapshot_time(D2)
        assert f"{view} {D2}: ok: " in (tmp_path / f"{D2}.log").read_text()
    # The broken view: its group stopped at materialize, nothing of the bad day was
    # written or published, online still serves the first day.
    assert tasks[f"{BROKEN}.materialize"] == "failed"
    assert tasks[f"{BROKEN}.sync"] == tasks[f"{BROKEN}.check"] == "upstream_failed"
    assert _snapshots(spark, settings, BROKEN) == [_snapshot_time(D1)]
    assert _live(settings, BROKEN) == _snapshot_time(D1)

    alerts = [json.loads(line) for line in settings.alert_jsonl.read_text().splitlines()]
    failures = {(a["kind"], a["view"], a["snapshot_date"]) for a in alerts}
    assert ("validation.failed", BROKEN, D2.isoformat()) in failures  # the gate's report
    assert ("airflow.materialize_failed", BROKEN, D2.isoformat()) in failures  # the notifier
    step_alert = next(a for a in alerts if a["kind"] == "airflow.materialize_failed")
    assert "last_country" in step_alert["message"]
    assert "online keeps serving the previous snapshot" in step_alert["message"]
    assert any(a["kind"] == "airflow.run_failed" for a in alerts)  # the DAG-level callback
    assert not any(a["severity"] == "failure" and a["view"] in healthy for a in alerts)

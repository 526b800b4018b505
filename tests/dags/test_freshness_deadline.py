"""The daily DAG's freshness deadline, driven by Airflow's own scheduler code.

Each test creates one run of ``skewless_daily`` (built from the two views of
``tests/dags/two_views.py``) in a migrated Airflow DB, lets the scheduler's pass over
expired deadlines run before and after the run finishes (``run_deadline.py``), and reads
the alerts from ``SKEWLESS_ALERT_JSONL``. What each view serves is set in a real
redis-server through the online store's own publish steps (register, go live): the
deadline's callback reads the live pointers, not the snapshot's values, so the
snapshots carry no entities.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feature_jobs.definitions import load_registry
from feature_jobs.online.connection import connect
from feature_jobs.online.keys import new_token
from feature_jobs.online.publish import SnapshotMeta, go_live, register
from feature_jobs.settings import Settings
from tests.dags.harness import airflow_env, run_deadline

DEFINITIONS = "tests.dags.two_views"
VIEWS = sorted(load_registry(DEFINITIONS).views)
# Days no other test of the session runs skewless_daily for (one run per logical date).
DAY = date(2026, 1, 14)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _serve(settings: Settings, view: str, day: date) -> None:
    """Make the snapshot of logical date ``day`` the one ``view`` serves."""
    assert settings.redis_url is not None
    feature_ts = _midnight(day) + timedelta(days=1)
    meta = SnapshotMeta(
        token=new_token(feature_ts), feature_ts=feature_ts, snapshot_date=day, buckets=0,
        columns=("n",), types=("long",), delta_version=1, definition_version="v1",
        run_id=f"test_{uuid.uuid4().hex[:6]}", rows=0, started_at=datetime.now(UTC),
    )  # fmt: skip
    client = connect(settings.redis_url)
    try:
        register(client, settings.project, view, meta, timedelta(days=2))
        assert go_live(client, settings.project, view, meta.token, timedelta(days=2)).status == "ok"
    finally:
        client.close()


def _alerts(settings: Settings) -> list[dict[str, Any]]:
    path = settings.alert_jsonl
    assert path is not None
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def deadline_env(
    settings: Settings, redis_server: Any, airflow_home: Path, tmp_path: Path
) -> tuple[Settings, dict[str, str]]:
    settings = replace(
        settings,
        redis_url=redis_server.url,
        alert_jsonl=tmp_path / "alerts.jsonl",
        features_module=DEFINITIONS,
    )
    return settings, airflow_env(airflow_home, settings, SKEWLESS_FRESHNESS_DEADLINE="6h")


def test_a_scheduled_day_that_finishes_late_alerts_once(
    deadline_env: tuple[Settings, dict[str, str]],
) -> None:
    settings, env = deadline_env
    behind, current = VIEWS
    _serve(settings, behind, DAY - timedelta(days=1))  # yesterday's snapshot, still served
    _serve(settings, current, DAY)  # this view made it

    result, _ = run_deadline(env, "skewless_daily", "scheduled", _midnight(DAY))

    assert result["run_type"] == "scheduled"
    interval_end = _midnight(DAY) + timedelta(days=1)
    # The deadline is 6 h after the interval [DAY, DAY + 1) ended.
    assert [d["time"] for d in result["deadlines_created"]] == [
        str(interval_end + timedelta(hours=6))
    ]
    first, second = result["passes"]
    assert [(c["ok"], c["error"]) for c in first] == [(True, None)]
    assert second == []  # finishing late, and the next pass, send nothing more
    assert result["state"] == "success"
    assert [d["missed"] for d in result["deadlines_left"]] == [True]

    [alert] = _alerts(settings)
    assert alert["kind"] == "airflow.freshness_deadline_missed"
    assert alert["title"] == f"snapshots of {DAY} are not live 6h after the day ended"
    assert alert["view"] == behind
    assert alert["snapshot_date"] == DAY.isoformat()
    assert alert["run_id"] == result["run_id"]
    assert alert["message"].startswith(
        f"online serves older snapshots: {behind}: {DAY - timedelta(days=1)} "
        f"(feature_ts {_midnight(DAY).isoformat()}). "
    )
    assert (
        f"interval [{_midnight(DAY).isoformat()}, {interval_end.isoformat()})" in (alert["message"])
    )
    assert current not in alert["message"]
    assert alert["details"]["behind"] == behind
    assert alert["details"][f"live.{behind}"] == _midnight(DAY).isoformat()
    assert alert["details"][f"live.{current}"] == interval_end.isoformat()


def test_a_manual_run_of_a_past_interval_does_not_alert(
    deadline_env: tuple[Settings, dict[str, str]],
) -> None:
    settings, env = deadline_env
    # The case: online serves a newer day (one view) or that very day (the other).
    _serve(settings, VIEWS[0], DAY + timedelta(days=1))
    _serve(settings, VIEWS[1], DAY)

    # A manual trigger with logical date DAY + 1 covers the interval [DAY, DAY + 1).
    result, output = run_deadline(
        env, "skewless_daily", "manual", _midnight(DAY) + timedelta(days=1)
    )

    assert result["run_type"] == "manual"
    assert result["data_interval"][0].startswith(DAY.isoformat())
    first, second = result["passes"]
    assert [(c["ok"], c["error"]) for c in first] == [(True, None)]  # past its deadline
    assert second == []
    assert _alerts(settings) == []
    assert f"snapshots of interval [{_midnight(DAY).isoformat()}" in output
    assert f"{VIEWS[0]}: {DAY + timedelta(days=1)}" in output
    assert "no alert" in output


def test_a_day_that_finishes_in_time_never_alerts(
    deadline_env: tuple[Settings, dict[str, str]],
) -> None:
    settings, env = deadline_env  # nothing live at all: only the deadline can tell
    today = datetime.now(UTC).date()

    result, _ = run_deadline(env, "skewless_daily", "scheduled", _midnight(today))

    assert [d["time"] for d in result["deadlines_created"]] == [
        str(_midnight(today) + timedelta(days=1, hours=6))
    ]
    assert result["passes"] == [[], []]
    assert result["deadlines_left"] == []  # met, so Airflow pruned it
    assert _alerts(settings) == []

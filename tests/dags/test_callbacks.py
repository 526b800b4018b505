"""Alerts and retry decisions of the Airflow wiring, called the way Airflow calls them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feature_jobs.airflow_support.callbacks import (
    StepFailureNotifier,
    dag_run_failed,
    error_line,
    freshness_deadline_missed,
)
from feature_jobs.airflow_support.daily import freshness_deadline, freshness_delay
from feature_jobs.airflow_support.spark_jobs import NoRetryOnBadData
from feature_jobs.errors import ConfigError

LOG_TAIL = (
    "Cannot execute: spark-submit --master local[2] spark_entry.py materialize --view v. "
    "Error code is: {code}.\nstarting Spark (local[2])...\n"
    "error: user_transaction_stats 2026-03-26 failed validation: str_matches[last_country]: "
    "1/81 rows; quarantined\n"
)


@pytest.fixture
def alerts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Callbacks read their settings from the environment when they fire."""
    path = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("SKEWLESS_ALERT_JSONL", str(path))
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("SKEWLESS_PROJECT", "callbacks")
    return path


def _sent(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize(("code", "action"), [(2, "fail"), (3, "fail"), (1, "default")])
def test_bad_data_and_bad_input_are_not_retried(code: int, action: str) -> None:
    decision = NoRetryOnBadData().evaluate(RuntimeError(LOG_TAIL.format(code=code)), 1, 4)
    assert decision.action.value == action


def test_other_failures_keep_the_normal_retries() -> None:
    assert NoRetryOnBadData().evaluate(TimeoutError("Redis"), 1, 4).action.value == "default"


def test_error_line_is_the_jobs_own_message() -> None:
    assert error_line(RuntimeError(LOG_TAIL.format(code=3))) == (
        "user_transaction_stats 2026-03-26 failed validation: str_matches[last_country]: "
        "1/81 rows; quarantined"
    )
    assert error_line(RuntimeError("Spark died\nmore")) == "Spark died"


def test_step_failure_notifier_names_view_date_and_reason(alerts: Path) -> None:
    notifier = StepFailureNotifier("user_transaction_stats", "materialize")
    notifier(
        {
            "data_interval_start": datetime(2026, 3, 26, tzinfo=UTC),
            "exception": RuntimeError(LOG_TAIL.format(code=3)),
            "run_id": "scheduled__2026-03-26T00:00:00+00:00",
            "dag": None,
        }
    )
    [alert] = _sent(alerts)
    assert alert["kind"] == "airflow.materialize_failed"
    assert alert["view"] == "user_transaction_stats"
    assert alert["snapshot_date"] == "2026-03-26"
    assert alert["run_id"] == "scheduled__2026-03-26T00:00:00+00:00"
    assert alert["title"] == "materialize of user_transaction_stats for 2026-03-26 failed"
    assert "str_matches[last_country]" in alert["message"]
    assert "online keeps serving the previous snapshot" in alert["message"]


def test_step_failure_notifier_of_a_backfill_names_its_range(alerts: Path) -> None:
    # A manual backfill run's data interval says nothing about the dates it recomputes.
    notifier = StepFailureNotifier(
        "user_transaction_stats", "materialize", "{{ params.start }} to {{ params.end }}"
    )
    notifier(
        {
            "data_interval_start": datetime(2026, 12, 6, tzinfo=UTC),
            "params": {"start": "2026-03-01", "end": "2026-03-03"},
            "exception": RuntimeError(LOG_TAIL.format(code=3)),
            "run_id": "manual__2026-12-06T10:00:00+00:00",
            "dag": None,
        }
    )
    [alert] = _sent(alerts)
    assert alert["title"] == (
        "materialize of user_transaction_stats for 2026-03-01 to 2026-03-03 failed"
    )
    assert alert["details"]["dates"] == "2026-03-01 to 2026-03-03"
    assert alert["snapshot_date"] is None  # a range is not one logical date
    assert "str_matches[last_country]" in alert["message"]


def test_dag_failure_callback_is_a_plain_function(alerts: Path) -> None:
    class Run:
        dag_id, run_id = "skewless_daily", "manual__1"

    dag_run_failed({"dag_run": Run(), "reason": "task_failure"})
    [alert] = _sent(alerts)
    assert alert["kind"] == "airflow.run_failed"
    assert alert["title"] == "run manual__1 of skewless_daily failed"


DEADLINE_CONTEXT = {
    "dag_run": {
        "dag_id": "skewless_daily",
        "dag_run_id": "scheduled__2026-03-26T00:00:00+00:00",
        "run_type": "scheduled",
        "data_interval_start": "2026-03-26T00:00:00Z",
        "data_interval_end": "2026-03-27T00:00:00Z",
    },
    "deadline": {"id": "d1", "deadline_time": "2026-03-27T06:00:00Z"},
}


def test_freshness_deadline_alerts_when_nothing_is_live_except_for_backfills(
    alerts: Path, redis_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("SKEWLESS_FEATURES", "tests.dags.two_views")
    freshness_deadline_missed(DEADLINE_CONTEXT, delay="6h")
    backfill = {
        **DEADLINE_CONTEXT,
        "dag_run": {**DEADLINE_CONTEXT["dag_run"], "run_type": "backfill"},
    }
    freshness_deadline_missed(backfill, delay="6h")
    [alert] = _sent(alerts)
    assert alert["kind"] == "airflow.freshness_deadline_missed"
    assert alert["title"] == "snapshots of 2026-03-26 are not live 6h after the day ended"
    assert alert["message"].startswith(
        "online serves older snapshots: merchant_transaction_stats: nothing; "
        "user_transaction_stats: nothing. skewless_daily run scheduled__2026-03-26T00:00:00+00:00 "
        "of interval [2026-03-26T00:00:00+00:00, 2026-03-27T00:00:00+00:00) has not finished"
    )
    assert alert["view"] is None  # both views are behind


def test_freshness_deadline_alerts_when_online_cannot_be_read(
    alerts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unknown is not fresh: a Redis nobody answers on is reported, not taken as live.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setenv("SKEWLESS_FEATURES", "tests.dags.two_views")
    freshness_deadline_missed(DEADLINE_CONTEXT, delay="6h")
    [alert] = _sent(alerts)
    assert alert["message"].startswith("online could not be read (")
    assert "127.0.0.1:9" in alert["message"]


@pytest.mark.parametrize(
    ("text", "delay"),
    [
        ("90m", timedelta(minutes=90)),
        ("6h", timedelta(hours=6)),
        ("1d", timedelta(days=1)),
        ("", timedelta(hours=6)),
    ],
)
def test_freshness_delay_is_configurable(text: str, delay: timedelta) -> None:
    assert freshness_delay({"SKEWLESS_FRESHNESS_DEADLINE": text}) == delay
    deadline = freshness_deadline({"SKEWLESS_FRESHNESS_DEADLINE": text})
    assert deadline.interval == timedelta(days=1) + delay
    assert deadline.callback.kwargs == {"delay": text or "6h"}


@pytest.mark.parametrize("text", ["0h", "6", "6 hours", "-1h", "1w"])
def test_bad_freshness_delay_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="SKEWLESS_FRESHNESS_DEADLINE"):
        freshness_delay({"SKEWLESS_FRESHNESS_DEADLINE": text})

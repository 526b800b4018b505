"""The DAG files parse like Airflow parses them: no errors, no Spark, complete wiring."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from feature_jobs.definitions import load_registry
from tests.dags.harness import ROOT, airflow_env

# Runs in a fresh interpreter so sys.modules shows exactly what parsing imported.
PROBE = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import BaseNotifier
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.serialization.serialized_objects import DagSerialization

bag = DagBag(dag_folder=sys.argv[1])
facts = {
    "import_errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dags),
    "spark_modules": sorted(m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")),
}
daily = bag.dags["skewless_daily"]
facts["daily"] = {
    "timetable": type(daily.timetable).__name__,
    "timezone": str(daily.timetable.timezone),
    "cron": daily.timetable.expression,
    "max_active_runs": daily.max_active_runs,
    "catchup": daily.catchup,
    "dag_failure_callback_plain": callable(daily.on_failure_callback)
    and not isinstance(daily.on_failure_callback, BaseNotifier),
    "deadline_seconds": [d.interval.total_seconds() for d in daily.deadline or []],
    "deadline_reference": [type(d.reference).__name__ for d in daily.deadline or []],
    "groups": sorted(daily.task_group.children),
    "tasks": {
        t.task_id: {
            "spark": isinstance(t, SparkSubmitOperator),
            "conn_id": getattr(t, "_conn_id", None),
            "application": getattr(t, "application", None),
            "args": getattr(t, "application_args", None),
            "jars": getattr(t, "jars", None),
            "retries": t.retries,
            "backoff": t.retry_exponential_backoff,
            "retry_policy": type(t.retry_policy).__name__ if t.retry_policy else None,
            "failure_notifiers": [type(c).__name__ for c in (t.on_failure_callback or [])],
            "outlets": [o.uri for o in t.outlets],
            "outlet_names": [o.name for o in t.outlets],
            "downstream": sorted(t.downstream_task_ids),
        }
        for t in daily.tasks
    },
}
training = bag.dags["skewless_training_set"]
# What the API server does with a trigger's conf, on the DAG as the scheduler holds it.
served = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(training))
refusals = {}
for conf in json.loads(sys.argv[2]):
    try:
        served.params.deep_merge(conf).validate()
        refusals[json.dumps(conf)] = None
    except Exception as exc:
        refusals[json.dumps(conf)] = type(exc).__name__ + ": " + str(exc).splitlines()[0]
facts["training"] = {
    "refusals": refusals,
    "schedule": type(training.timetable).__name__,
    "params": {k: training.params.get_param(k).schema for k in training.params},
    "defaults": dict(training.params),
    "tasks": sorted(training.task_ids),
}
print("FACTS " + json.dumps(facts, default=str))
"""


#: Trigger confs: the first passes the form (the task refuses it), the others do not.
FORM_CONFS = [
    {"spine": "/etc"},
    {"spine": "raw/../../etc"},
    {"spine": "s3a://bucket/labels"},
    {"feature_service": "nope"},
    {"mode": "latest"},
    {"output_name": "Bad Name"},
    {"output_name": "x" * 65},
]


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("dagbag_home")  # parsing needs no metadata DB
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "dags"), json.dumps(FORM_CONFS)],
        env=airflow_env(home, SKEWLESS_DATA_ROOT=str(home / "data")),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith("FACTS ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    return dict(json.loads(lines[-1][len("FACTS ") :]))


def test_dags_parse_without_errors_and_without_spark(facts: dict) -> None:
    assert facts["import_errors"] == {}
    assert facts["dag_ids"] == ["skewless_daily", "skewless_training_set"]
    assert facts["spark_modules"] == []


def test_daily_dag_schedule_is_daily_utc_with_one_run_at_a_time(facts: dict) -> None:
    daily = facts["daily"]
    assert daily["timetable"] == "CronDataIntervalTimetable"
    assert daily["timezone"] == "UTC"
    assert daily["cron"] == "0 0 * * *"
    assert daily["max_active_runs"] == 1
    assert daily["catchup"] is False
    assert daily["dag_failure_callback_plain"] is True
    # Freshness deadline: logical date (= start of the data interval) + 1 day + 6 h default.
    assert daily["deadline_reference"] == ["DagRunLogicalDateDeadline"]
    assert daily["deadline_seconds"] == [(24 + 6) * 3600]


def test_every_view_has_its_group_of_spark_jobs(facts: dict) -> None:
    views = sorted(load_registry("features").views)
    daily = facts["daily"]
    assert daily["groups"] == views
    assert len(daily["tasks"]) == 3 * len(views)
    for view in views:
        steps = {s: daily["tasks"][f"{view}.{s}"] for s in ("materialize", "sync", "check")}
        assert steps["materialize"]["downstream"] == [f"{view}.sync"]
        assert steps["sync"]["downstream"] == [f"{view}.check"]
        assert steps["check"]["downstream"] == []
        for step, task in steps.items():
            assert task["spark"] and task["conn_id"] == "spark_default"
            assert task["application"].endswith("feature_jobs/spark_entry.py")
            assert task["args"][:3] == [step, "--view", view]
            assert task["args"][3:5] == ["--date", "{{ data_interval_start | ds }}"]
            assert "delta-spark" in task["jars"] and "delta-storage" in task["jars"]
            assert task["retries"] >= 2 and task["backoff"] >= 2
            assert task["retry_policy"] == "NoRetryOnBadData"
            assert task["failure_notifiers"] == ["StepFailureNotifier"]
        assert steps["materialize"]["outlets"][0].endswith(f"/offline/{view}")
        # Named per project: one Airflow can run several projects' DAGs side by side.
        assert steps["materialize"]["outlet_names"] == [f"skewless.skewless.offline.{view}"]
        assert steps["sync"]["outlets"] == []


def test_training_set_dag_is_manual_with_a_checked_form(facts: dict) -> None:
    training = facts["training"]
    assert training["schedule"] == "NullTimetable"
    assert training["tasks"] == ["build_training_set", "check_request", "report"]
    params = training["params"]
    assert params["feature_service"]["enum"] == sorted(load_registry("features").services)
    assert params["mode"]["enum"] == ["event-time", "as-known"]
    assert params["output_name"]["pattern"] == "^[a-z0-9_]{1,64}$"
    assert set(training["defaults"]) == {"feature_service", "spine", "mode", "output_name"}


def test_trigger_form_refuses_traversal_urls_unknown_services_and_bad_names(
    facts: dict,
) -> None:
    refusals = {json.loads(k).popitem(): v for k, v in facts["training"]["refusals"].items()}
    # Absolute paths may name a folder under the data root: the task decides (see
    # test_training_set_dag); everything else is refused before a run exists.
    assert refusals.pop(("spine", "/etc")) is None
    assert refusals[("spine", "raw/../../etc")].startswith(
        "ParamValidationError: Invalid input for param spine"
    )
    assert refusals[("feature_service", "nope")].startswith(
        "ParamValidationError: Invalid input for param feature_service: 'nope' is not one of"
    )
    assert all(v and v.startswith("ParamValidationError") for v in refusals.values()), refusals

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
from airflow.providers.standard.operators.python import BranchPythonOperator
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
facts["about"] = {
    dag_id: {
        "description": dag.description,
        "display_name": dag.dag_display_name,
        "tags": sorted(dag.tags),
        "doc": dag.doc_md,
    }
    for dag_id, dag in bag.dags.items()
}


# What the API server does with a trigger's conf, on the DAG as the scheduler holds it.
def refusals(dag, confs):
    served = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    found = {}
    for conf in confs:
        try:
            served.params.deep_merge(conf).validate()
            found[json.dumps(conf)] = None
        except Exception as exc:
            found[json.dumps(conf)] = type(exc).__name__ + ": " + str(exc).splitlines()[0]
    return found


training = bag.dags["skewless_training_set"]
facts["training"] = {
    "refusals": refusals(training, json.loads(sys.argv[2])),
    "schedule": type(training.timetable).__name__,
    "params": {k: training.params.get_param(k).schema for k in training.params},
    "defaults": dict(training.params),
    "tasks": sorted(training.task_ids),
}
backfill = bag.dags["skewless_backfill"]
facts["backfill"] = {
    "refusals": refusals(backfill, json.loads(sys.argv[3])),
    "schedule": type(backfill.timetable).__name__,
    "max_active_runs": backfill.max_active_runs,
    "params": {k: backfill.params.get_param(k).schema for k in backfill.params},
    "defaults": {
        k: backfill.params.get_param(k).value
        for k in backfill.params
        if backfill.params.get_param(k).has_value
    },
    "tasks": {
        t.task_id: {
            "branch": isinstance(t, BranchPythonOperator),
            "args": getattr(t, "application_args", None),
            "retry_policy": type(t.retry_policy).__name__ if t.retry_policy else None,
            "failure_notifiers": [
                [type(c).__name__, getattr(c, "dates", None)]
                for c in (t.on_failure_callback or [])
            ],
            "outlet_names": [o.name for o in t.outlets],
            "downstream": sorted(t.downstream_task_ids),
        }
        for t in backfill.tasks
    },
}
print("FACTS " + json.dumps(facts, default=str))
"""


#: Backfill trigger confs: the first two pass the form (the task refuses them), the others not.
_DATES = {"start": "2026-03-01", "end": "2026-03-03"}
BACKFILL_CONFS = [
    {"start": "2026-03-05", "end": "2026-03-01"},
    {"start": "2026-03-01"},
    {**_DATES, "views": ["nope"]},
    {**_DATES, "views": []},
    {**_DATES, "views": "user_transaction_stats"},
    {**_DATES, "start": "03/01/2026"},
    {**_DATES, "end": "2026-02-30"},
]

#: Trigger confs: the first passes the form (the task refuses it), the second passes (an
#: empty output name: one per run), the others do not.
FORM_CONFS = [
    {"spine": "/etc"},
    {"output_name": None},
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
        [
            sys.executable,
            "-c",
            PROBE,
            str(ROOT / "dags"),
            json.dumps(FORM_CONFS),
            json.dumps(BACKFILL_CONFS),
        ],
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
    assert facts["dag_ids"] == ["skewless_backfill", "skewless_daily", "skewless_training_set"]
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
    # No fixed output name: it would work once, then name an existing folder.
    assert training["defaults"]["output_name"] is None


def test_trigger_form_refuses_traversal_urls_unknown_services_and_bad_names(
    facts: dict,
) -> None:
    refusals = {json.loads(k).popitem(): v for k, v in facts["training"]["refusals"].items()}
    # Absolute paths may name a folder under the data root: the task decides (see
    # test_training_set_dag); everything else is refused before a run exists.
    assert refusals.pop(("spine", "/etc")) is None
    assert refusals.pop(("output_name", None)) is None
    assert refusals[("spine", "raw/../../etc")].startswith(
        "ParamValidationError: Invalid input for param spine"
    )
    assert refusals[("feature_service", "nope")].startswith(
        "ParamValidationError: Invalid input for param feature_service: 'nope' is not one of"
    )
    assert all(v and v.startswith("ParamValidationError") for v in refusals.values()), refusals


def test_every_dag_has_a_description_tags_and_docs(facts: dict) -> None:
    for dag_id, about in facts["about"].items():
        assert about["description"], dag_id
        # The list of DAGs shows display names, not descriptions: the id, then what it does.
        assert about["display_name"].startswith(f"{dag_id}: "), dag_id
        assert "skewless" in about["tags"], dag_id
        assert about["doc"], dag_id
        # Every DAG's docs end with the link to the feature catalog.
        assert "[http://127.0.0.1:8000/catalog](http://127.0.0.1:8000/catalog)" in about["doc"]


def test_backfill_dag_is_manual_with_a_range_job_per_view(facts: dict) -> None:
    views = sorted(load_registry("features").views)
    backfill = facts["backfill"]
    assert backfill["schedule"] == "NullTimetable"
    assert backfill["max_active_runs"] == 1
    params = backfill["params"]
    # The UI's multi-select shows `examples`; `items.enum` holds API triggers to it too.
    assert params["views"]["examples"] == params["views"]["items"]["enum"] == views
    assert params["start"]["format"] == params["end"]["format"] == "date"
    assert params["start"]["type"] == params["end"]["type"] == ["string", "null"]
    assert backfill["defaults"] == {"views": views}  # the dates have to be picked
    tasks = backfill["tasks"]
    assert set(tasks) == {"check_request"} | {
        f"{view}.{step}" for view in views for step in ("materialize", "sync", "check")
    }
    assert tasks["check_request"]["branch"] is True
    assert tasks["check_request"]["downstream"] == [f"{view}.materialize" for view in views]
    for view in views:
        steps = {s: tasks[f"{view}.{s}"] for s in ("materialize", "sync", "check")}
        assert steps["materialize"]["downstream"] == [f"{view}.sync"]
        assert steps["sync"]["downstream"] == [f"{view}.check"]
        assert steps["materialize"]["args"][:7] == [
            "materialize", "--view", view, "--start", "{{ params.start }}",
            "--end", "{{ params.end }}",
        ]  # fmt: skip
        for step in ("sync", "check"):
            assert steps[step]["args"][:5] == [step, "--view", view, "--date", "{{ params.end }}"]
        assert steps["materialize"]["failure_notifiers"] == [
            ["StepFailureNotifier", "{{ params.start }} to {{ params.end }}"]
        ]
        assert all(t["retry_policy"] == "NoRetryOnBadData" for t in steps.values())
        assert steps["materialize"]["outlet_names"] == [f"skewless.skewless.offline.{view}"]


def test_backfill_form_refuses_unknown_views_and_malformed_dates(facts: dict) -> None:
    refusals = dict(facts["backfill"]["refusals"])
    # An end before the start, or no end, passes the form: check_request refuses them
    # (test_backfill_dag, test_backfill_request).
    assert refusals.pop(json.dumps({"start": "2026-03-05", "end": "2026-03-01"})) is None
    assert refusals.pop(json.dumps({"start": "2026-03-01"})) is None
    assert all(v and v.startswith("ParamValidationError") for v in refusals.values()), refusals
    assert "'nope' is not one of" in " ".join(v for v in refusals.values() if v)

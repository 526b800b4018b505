"""The training-set DAG under ``dag.test()``: a valid form builds the set, bad ones stop early."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from feature_jobs.definitions import load_registry
from feature_jobs.demo import generate
from feature_jobs.materialize import materialize_range
from feature_jobs.settings import Settings
from tests.dags.harness import airflow_env, run_dag

pytestmark = pytest.mark.slow

END = date(2026, 3, 20)
# A manual run: the logical date only names the run, the form says what to build.
WHEN = datetime.fromisoformat("2026-03-21T00:00:00+00:00")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A data root with a few days of demo transactions and labels (no Spark)."""
    root = tmp_path_factory.mktemp("training_dag")
    settings = Settings.from_env(
        {"SKEWLESS_DATA_ROOT": str(root / "data"), "SKEWLESS_PROJECT": "training_dag"}
    )
    generate(settings.data_root, days=4, end=END, users=30, merchants=6, seed=3)
    return settings


@pytest.fixture(scope="module")
def built(spark, demo: Settings) -> Settings:  # type: ignore[no-untyped-def]
    """The merchant view materialized for the last two demo days."""
    view = load_registry("features").view("merchant_transaction_stats")
    materialize_range(spark, demo, view, [END - timedelta(days=1), END], run_id="dag_test")
    return demo


def _conf(**changes: str) -> dict[str, str]:
    conf = {
        "feature_service": "merchant_risk_v1",
        "spine": "raw/labels",
        "mode": "event-time",
        "output_name": "merchant_train",
    }
    conf.update(changes)
    return conf


def test_the_form_with_its_defaults_builds_the_training_set_and_reports_it(
    built: Settings, airflow_home: Path, tmp_path: Path
) -> None:
    # The output name left empty, as the form opens: each run names a folder of its own
    # (a fixed default would exist after the first run, and the second would be refused).
    conf = {k: v for k, v in _conf().items() if k != "output_name"}
    env = airflow_env(airflow_home, built)
    result = run_dag(env, "skewless_training_set", WHEN, conf, log=tmp_path / "run.log")
    assert result["state"] == "success", result["tasks"]
    assert set(result["tasks"].values()) == {"success"}
    [output] = (built.data_root / "training_sets").glob("merchant_risk_v1_*[0-9]")
    assert re.fullmatch(r"merchant_risk_v1_\d{8}_\d{6}", output.name)
    spine_rows = pq.read_table(built.data_root / "raw" / "labels").num_rows
    assert spine_rows > 0
    assert pq.read_table(output).num_rows == spine_rows
    report = result["returns"]["report"]
    assert report["rows"] == spine_rows
    assert report["manifest"] == str(output) + ".manifest.json"
    assert Path(report["manifest"]).is_file()
    assert report["rows_using_future_values"] == 0
    assert 0 < report["naive_join_rows_using_future_values"] <= spine_rows
    assert report["leakage_summary"].startswith(f"rows using future values: 0 of {spine_rows};")
    assert report["feature_service"] == "merchant_risk_v1"
    assert len(report) == 8  # a small dict: the numbers, not the manifest
    log = (tmp_path / "run.log").read_text()
    # The summary lines come first, before the return value is logged.
    first = log.index(f"training set of merchant_risk_v1: {spine_rows} rows (event-time)")
    # (The build task's own log, earlier, has the same sentence: look after the report's.)
    assert log.index(report["leakage_summary"], first) > first
    assert log.index(f"manifest: {report['manifest']}", first) > first

    # A second trigger with the same form gets a folder of its own: run_output_name and
    # check_training_conf are tested on that case in test_training_conf.py, without a
    # second Spark build here.


def test_request_outside_the_data_root_stops_before_spark(
    demo: Settings, airflow_home: Path, tmp_path: Path
) -> None:
    # "/etc" passes the form's pattern (absolute paths under the root are allowed); the
    # task's own check refuses it, so the Spark task never starts.
    log = tmp_path / "run.log"
    result = run_dag(
        airflow_env(airflow_home, demo), "skewless_training_set", WHEN + timedelta(days=1),
        _conf(spine="/etc", output_name="outside"), log=log,
    )  # fmt: skip
    assert result["state"] == "failed"
    assert result["tasks"] == {
        "check_request": "failed",
        "build_training_set": "upstream_failed",
        "report": "upstream_failed",
    }
    assert "spine /etc is outside the data root" in log.read_text()
    assert not (demo.data_root / "training_sets" / "outside").exists()
    assert "spark-submit" not in log.read_text()

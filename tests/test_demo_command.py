"""`python -m feature_jobs demo` (what `make demo` runs) works end to end on embedded defaults."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from feature_jobs.online.embedded import stop_embedded
from feature_jobs.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline_on_embedded_defaults(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DELTA_ROOT")}
    env.update(
        SKEWLESS_DATA_ROOT=str(tmp_path / "data"),
        SKEWLESS_PROJECT="demo_test",
        SPARK_MASTER="local[2]",
        SKEWLESS_SHUFFLE_PARTITIONS="2",
        SKEWLESS_ALERT_JSONL=str(tmp_path / "alerts.jsonl"),
    )
    command = [sys.executable, "-m", "feature_jobs", "demo", "--days", "3", "--end", "2026-03-29",
               "--users", "40", "--merchants", "8"]  # fmt: skip
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
        )
    finally:
        stop_embedded(Settings.from_env(env))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "materializing 3 views x 3 days = 9 snapshots" in out
    # One line per view: its three days were one range job and one Delta commit.
    views = re.findall(
        r"\[\s*\d+%\] (\w+) 2026-03-27\.\.2026-03-29: 3 snapshots, \d+ rows in one commit", out
    )
    assert sorted(views) == [
        "merchant_transaction_stats", "user_risk_signals", "user_transaction_stats"
    ]  # fmt: skip
    assert "feature_ts=" not in out  # no line per snapshot
    # A line per step, with a percentage; the last view's commit is 100 %.
    assert re.search(r"\[ 16%\] \w+: 3 of 3 snapshot\(s\) validated, committing", out)
    assert "[100%]" in out
    # Quiet: the JVM's and Spark's start-up lines went to the data root's log, not here.
    assert "incubator" not in result.stderr and "default log level" not in result.stderr
    assert "incubator" in (tmp_path / "data" / "logs" / "spark-jvm.log").read_text()
    assert re.search(r"starting Spark \(local\[2\]\)\.\.\. \d+\.\ds\n", result.stderr)
    assert re.search(r"synced user_transaction_stats 2026-03-29: \d+ entities .*live", out)
    # Lookups are read "now", long after 2026-03-30: each view follows its on_stale policy.
    assert "STALE" in out
    assert re.search(r"\d+ labelled rows x 12 features", out)
    assert re.search(
        r"rows using future values: 0 of (\d+); a naive latest-value join would have used "
        r"values from after the row's timestamp in \d+",
        out,
    )
    assert "manifest:" in out and (tmp_path / "data" / "training_sets" / "fraud_model_v1").is_dir()
    assert (
        tmp_path / "data" / "warehouse" / "offline" / "user_risk_signals" / "_delta_log"
    ).is_dir()

"""SKEWLESS_JVM_OPTIONS reaches the driver JVM a command starts, next to the UTC flag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from feature_jobs.spark.session import SHORT_JOB_JVM_OPTIONS, driver_jvm_options

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
from feature_jobs.settings import Settings
from feature_jobs.spark.session import build_spark
spark = build_spark(Settings.from_env(), "jvm-options-probe")
bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
print("ARGS " + json.dumps(list(bean.getInputArguments())))
spark.stop()
"""


def test_options_come_from_the_environment_only() -> None:
    assert driver_jvm_options({}) == ""
    assert driver_jvm_options({"SKEWLESS_JVM_OPTIONS": " -XX:+UseG1GC "}) == "-XX:+UseG1GC"


def test_the_test_sessions_driver_runs_in_utc_without_extra_flags(spark: Any) -> None:
    bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = list(bean.getInputArguments())
    assert "-Duser.timezone=UTC" in arguments
    assert "-XX:TieredStopAtLevel=1" not in arguments


def test_a_command_started_with_the_variable_gets_the_flags(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SKEWLESS_JVM_OPTIONS": SHORT_JOB_JVM_OPTIONS,
        "SKEWLESS_DATA_ROOT": str(tmp_path),
        "SPARK_MASTER": "local[1]",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("ARGS ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    arguments = json.loads(lines[0][len("ARGS ") :])
    for flag in SHORT_JOB_JVM_OPTIONS.split():
        assert flag in arguments, arguments
    assert "-Duser.timezone=UTC" in arguments

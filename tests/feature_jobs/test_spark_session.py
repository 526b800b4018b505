"""Driver JVM flags: SKEWLESS_JVM_OPTIONS, the short-job profile and the class archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from feature_jobs.spark.jvm_options import SHORT_JOB_FLAGS, driver_jvm_options
from tests.support.fresh_process import run_fresh

PROBE = """
import json
from feature_jobs.settings import Settings
from feature_jobs.spark.session import build_spark
import os
short = os.environ.get("PROBE_SHORT_JOB") == "1"
spark = build_spark(Settings.from_env(), "jvm-options-probe", short_job=short)
bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
print("ARGS " + json.dumps(list(bean.getInputArguments())))
spark.stop()
"""


def test_flags_come_from_the_environment_the_job_and_the_archive(tmp_path: Path) -> None:
    assert driver_jvm_options({}, "local[2]", None) == ""
    user = {"SKEWLESS_JVM_OPTIONS": " -XX:+UseG1GC "}
    assert driver_jvm_options(user, "local[2]", None) == "-XX:+UseG1GC"
    # Profiles only where the driver runs the tasks; the user's flags last.
    short = driver_jvm_options(user, "local[2]", None, short_job=True).split()
    assert short == [*SHORT_JOB_FLAGS, "-XX:+UseG1GC"]
    assert driver_jvm_options({}, "spark://host:7077", None, short_job=True) == ""
    # The archive only when the file is there, and not when switched off.
    archive = tmp_path / "classes.jsa"
    assert driver_jvm_options({}, "local[2]", archive) == ""
    archive.write_bytes(b"x")
    flags = driver_jvm_options({}, "spark://host:7077", archive).split()
    assert f"-XX:SharedArchiveFile={archive}" in flags and "-Xshare:auto" in flags
    assert driver_jvm_options({"SKEWLESS_CLASS_ARCHIVE": "off"}, "local[2]", archive) == ""


def test_the_test_sessions_driver_runs_in_utc_without_extra_flags(spark: Any) -> None:
    bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = list(bean.getInputArguments())
    assert "-Duser.timezone=UTC" in arguments
    assert "-XX:TieredStopAtLevel=1" not in arguments


def probe_arguments(tmp_path: Path, **extra: str) -> list[str]:
    """The input arguments of the driver JVM a fresh command starts with ``extra`` env."""
    lines = [line for line in run_fresh(PROBE, tmp_path, **extra).splitlines()]
    args = [line for line in lines if line.startswith("ARGS ")]
    assert args, lines[-20:]
    return list(json.loads(args[0][len("ARGS ") :]))


def test_a_command_started_with_the_variable_gets_the_flags(tmp_path: Path) -> None:
    flags = "-XX:+UseSerialGC -Dskewless.probe=1"
    arguments = probe_arguments(tmp_path, SKEWLESS_JVM_OPTIONS=flags)
    assert "-XX:+UseSerialGC" in arguments and "-Dskewless.probe=1" in arguments, arguments
    assert "-Duser.timezone=UTC" in arguments
    assert "-XX:TieredStopAtLevel=1" not in arguments


def test_a_short_job_gets_the_profile(tmp_path: Path) -> None:
    arguments = probe_arguments(tmp_path, PROBE_SHORT_JOB="1")
    for flag in SHORT_JOB_FLAGS:
        assert flag in arguments, arguments

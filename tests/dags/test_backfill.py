"""Airflow's own backfill plans one run per day of the range, each named by its day.

A backfill run's logical date is the start of its data interval (the DAG's timetable is
``CronDataIntervalTimetable``), and every task reads its date from
``data_interval_start``: so the backfill of 1-3 March materializes exactly those days.
The dry run needs no scheduler.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.dags.harness import airflow_env


def test_backfill_of_a_range_plans_one_run_per_day(airflow_home: Path, tmp_path: Path) -> None:
    env = airflow_env(airflow_home, SKEWLESS_DATA_ROOT=str(tmp_path / "data"))
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run(
        [airflow, "dags", "reserialize"], env=env, capture_output=True, timeout=300, check=True
    )
    done = subprocess.run(
        [airflow, "backfill", "create", "--dag-id", "skewless_daily",
         "--from-date", "2026-03-01", "--to-date", "2026-03-03", "--dry-run"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    planned = re.findall(r"^\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00) ", done.stdout, re.M)
    assert planned == [
        "2026-03-01 00:00:00+00:00",
        "2026-03-02 00:00:00+00:00",
        "2026-03-03 00:00:00+00:00",
    ]

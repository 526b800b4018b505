"""Benchmark: wall time of the daily DAG for one demo day, under Airflow's ``dag.test()``.

Generates the demo (default size: 45 days, 2,000 users, 200 merchants), then runs
``skewless_daily`` for its last day: for each of the 3 views a spark-submit of
materialize (with the Pandera gate), sync to a real redis-server, and check, one task
after the other as ``dag.test()`` runs them. Prints the run's wall time and each task's
duration:

    .venv/bin/python bench/airflow_daily_bench.py
    .venv/bin/python bench/airflow_daily_bench.py --users 200 --merchants 20 --days 12

Figures and the machine they ran on go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feature_jobs.cli.demo_cmd import default_end  # noqa: E402
from feature_jobs.demo import generate  # noqa: E402
from feature_jobs.settings import Settings  # noqa: E402
from feature_jobs.timeutil import parse_date  # noqa: E402
from tests.dags.harness import airflow_env, migrate, run_dag  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument("--end", default=default_end(), help="the demo day the DAG runs for")
    args = parser.parse_args()
    end = parse_date(args.end, "--end")
    with tempfile.TemporaryDirectory(prefix="skewless_airflow_bench_") as tmp:
        work = Path(tmp)
        redis = RedisServer(work / "redis").start()
        try:
            settings = Settings.from_env(
                {"SKEWLESS_DATA_ROOT": str(work / "data"), "REDIS_URL": redis.url}
            )
            generate(
                settings.data_root, days=args.days, end=end, users=args.users,
                merchants=args.merchants,
            )  # fmt: skip
            migrate(work / "airflow")
            env = airflow_env(work / "airflow", settings)
            logical = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
            started = time.monotonic()
            result = run_dag(env, "skewless_daily", logical, log=work / "run.log")
            wall = time.monotonic() - started
        finally:
            redis.stop()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"demo: {args.days} days, {args.users} users, {args.merchants} merchants; "
        f"DAG run for {end}: {result['state']}"
    )
    print(f"daily DAG wall time (dag.test, one demo day): {wall:.0f}s")
    for task, seconds in sorted(result.get("seconds", {}).items()):
        print(f"  {task:45s} {seconds:6.1f}s  {result['tasks'][task]}")
    return 0 if result["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())

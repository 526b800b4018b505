"""Benchmark: VACUUM of a view's offline table, with Delta's default file-listing
parallelism (10,000 tasks) and with the one ``guarded_vacuum`` uses (the shuffle
partitions), alternating in one Spark session.

The table is the demo's ``merchant_transaction_stats`` over 45 days (45 ``snapshot_date``
partitions), materialized twice so that every file of the first commit is replaced:

    .venv/bin/python bench/vacuum_bench.py [--rounds 2]

Figures and the machine they ran on go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DELTA_DEFAULT_LISTING_TASKS = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from feature_jobs.definitions import load_registry
    from feature_jobs.demo.generator import generate
    from feature_jobs.materialize import materialize_range
    from feature_jobs.offline import guarded_vacuum
    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark
    from feature_jobs.timeutil import date_range

    root = Path(tempfile.mkdtemp(prefix="skewless-vacuum-bench-"))
    settings = Settings.from_env({**os.environ, "SKEWLESS_DATA_ROOT": str(root)})
    end = date(2026, 12, 5)
    print(generate(root, days=45, end=end, users=2000, merchants=200), flush=True)
    spark = build_spark(settings, "skewless-bench-vacuum")
    view = load_registry(settings.features_module).view("merchant_transaction_stats")
    days = date_range(end - timedelta(days=44), end)
    for run in ("first", "second"):  # the second commit replaces every file of the first
        materialize_range(spark, settings, view, days, run_id=f"vacuum_bench_{run}")
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"table: offline/{view.name} under {root}, 45 dates, committed twice", flush=True)
    for round_no in range(args.rounds):
        for tasks in (DELTA_DEFAULT_LISTING_TASKS, None):
            started = time.monotonic()
            guarded_vacuum(spark, settings, view, listing_tasks=tasks)
            seconds = time.monotonic() - started
            label = f"{tasks} (Delta's default)" if tasks else f"{settings.shuffle_partitions}"
            print(f"round {round_no + 1}: listing tasks {label}: {seconds:.1f} s", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()

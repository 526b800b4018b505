"""Benchmark: materialize every demo view for every day of a generated history.

Prints the wall time of each phase and the throughput. Run it on a quiet machine:

    .venv/bin/python bench/materialize_bench.py --days 45 --users 2000 --merchants 200

Figures and the machine they ran on go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument("--end", default="2026-03-29")
    parser.add_argument("--root", help="data root (default: a fresh temporary folder)")
    args = parser.parse_args()

    root = Path(args.root or tempfile.mkdtemp(prefix="skewless-bench-"))
    os.environ["SKEWLESS_DATA_ROOT"] = str(root)
    from feature_jobs.definitions import load_registry
    from feature_jobs.demo.generator import generate
    from feature_jobs.materialize import materialize_views
    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark

    settings = Settings.from_env()
    end = date.fromisoformat(args.end)
    t0 = time.monotonic()
    summary = generate(root, days=args.days, end=end, users=args.users, merchants=args.merchants)
    t_generate = time.monotonic() - t0
    t0 = time.monotonic()
    spark = build_spark(settings, "skewless-bench-materialize")
    spark.range(1).count()
    t_spark = time.monotonic() - t0
    views = list(load_registry("features").views.values())
    days = [end - timedelta(days=i) for i in range(args.days - 1, -1, -1)]
    t0 = time.monotonic()
    outcomes = materialize_views(spark, settings, views, days)
    t_materialize = time.monotonic() - t0
    failed = [o for o in outcomes if o.error is not None]
    snapshots = sum(len(o.results) for o in outcomes)
    rows = sum(r.rows for o in outcomes for r in o.results)
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"data: {summary}")
    print(f"generate: {t_generate:.1f}s  spark start: {t_spark:.1f}s")
    print(
        f"materialize: {snapshots} snapshots of {len(views)} views, {rows} rows in "
        f"{t_materialize:.1f}s = {snapshots / t_materialize:.2f} snapshots/s, "
        f"{rows / t_materialize:.0f} rows/s, {t_materialize / max(snapshots, 1):.2f}s/snapshot"
    )
    for outcome in failed:
        print(f"FAILED {outcome.view}: {outcome.error}")


if __name__ == "__main__":
    main()

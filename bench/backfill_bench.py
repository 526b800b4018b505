"""Benchmark of a backfill: one view over 30, 60 and 120 days of a larger history (issue 15).

Workload (generated once with Spark under ``--root``, then reused): 100,000 users and
about 10M raw events spread evenly over 150 days (the longest range, 120 days, plus its
30-day lookback), each with a merchant among those the user frequents. One view, below,
with 1-, 7- and 30-day windows: count, sum, avg, count_distinct of the merchant, last.
Each range ends on the same day, so a range of N days reads N + 30 days of events.

Two modes, each run in a fresh process (JVM start included) whose whole process tree's
resident memory is sampled every 50 ms (the peak of that sum is reported):

* default: ``python -m feature_jobs materialize --view V --start D1 --end D2`` into an
  empty warehouse, as a user runs it (gate and Delta commits included);
* ``--compute-only``: read, prepare and ``compute_snapshots`` of the range, written to
  Spark's ``noop`` sink, so the compute alone is timed; with ``--reference`` every size
  also runs the former event pairing (``tests/feature_jobs/event_pairing_reference.py``),
  alternating with the engine's path, for a side-by-side.

Usage::

    .venv/bin/python bench/backfill_bench.py [--root DIR] [--users 100000]
        [--events 10000000] [--days 30,60,120] [--runs 1] [--compute-only [--reference]]

This file is also the definitions module of the benchmark (``SKEWLESS_FEATURES=
backfill_bench`` with ``bench/`` on ``PYTHONPATH``); its view is defined below.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from feature_jobs.definitions import Entity, Feature, FeatureView, Source

REPO = Path(__file__).resolve().parent.parent
LAST_DAY = date(2026, 6, 30)  # every range ends here (its snapshot is at July 1, 00:00 UTC)
LONGEST_RANGE = 120
LOOKBACK = 30  # the view's longest window, in days
FIRST_EVENT_DAY = LAST_DAY - timedelta(days=LONGEST_RANGE + LOOKBACK - 1)
MERCHANTS = 20_000

user = Entity(name="user", join_keys={"user_id": "long"})
card_events = Source(
    name="card_events",
    path="raw/card_events",
    schema={
        "tx_id": "string",
        "user_id": "long",
        "merchant_id": "long",
        "amount": "double",
        "event_ts": "timestamp",
        "ingested_ts": "timestamp",
    },
    timestamp_column="event_ts",
    ingestion_timestamp_column="ingested_ts",
    dedup_key=["tx_id"],
)
backfill_view = FeatureView(
    name="backfill_user_stats",
    entity=user,
    source=card_events,
    owner="bench@example.com",
    cadence="daily",
    max_age="2d",
    features=[
        *[Feature(name=f"count_{w}", function="count", window=w) for w in ("1d", "7d", "30d")],
        *[
            Feature(name=f"amount_sum_{w}", function="sum", column="amount", window=w)
            for w in ("1d", "7d", "30d")
        ],
        *[
            Feature(name=f"amount_avg_{w}", function="avg", column="amount", window=w)
            for w in ("7d", "30d")
        ],
        *[
            Feature(
                name=f"merchants_{w}", function="count_distinct", column="merchant_id", window=w
            )
            for w in ("7d", "30d")
        ],
        Feature(name="last_merchant_30d", function="last", column="merchant_id", window="30d"),
    ],
)


def range_days(days: int) -> tuple[date, date]:
    """First and last logical date of the range of ``days`` days ending on LAST_DAY."""
    return LAST_DAY - timedelta(days=days - 1), LAST_DAY


# -- workers (run in their own process) ------------------------------------------------


def generate(root: Path, users: int, events: int) -> None:
    """Write the raw events once, and a manifest with the number of events per day."""
    from pyspark.sql import functions as F

    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark
    from feature_jobs.timeutil import day_start

    settings = Settings.from_env({**os.environ, "SKEWLESS_DATA_ROOT": str(root)})
    spark = build_spark(settings, "skewless-backfill-generate")
    start_us = int(day_start(FIRST_EVENT_DAY).timestamp()) * 1_000_000
    span_us = (LONGEST_RANGE + LOOKBACK) * 86_400 * 1_000_000
    user_id = (F.rand(seed=1) * users).cast("long")
    # Each user mostly returns to a few merchants of its own: sets stay smaller than counts.
    favourite = (F.pow(F.rand(seed=2), 3) * 40).cast("long")
    frame = spark.range(events, numPartitions=8).select(
        F.concat(F.lit("e"), F.col("id").cast("string")).alias("tx_id"),
        user_id.alias("user_id"),
        F.pmod(user_id * 7919 + favourite, F.lit(MERCHANTS)).alias("merchant_id"),
        F.round(F.rand(seed=3) * F.rand(seed=4) * 400, 2).alias("amount"),
        F.timestamp_micros(F.lit(start_us) + (F.rand(seed=5) * span_us).cast("long")).alias(
            "event_ts"
        ),
    )
    # Each event arrives a minute after it happened (the source's dedup needs the time).
    frame = frame.withColumn("ingested_ts", F.col("event_ts") + F.expr("INTERVAL 1 MINUTE"))
    frame.write.mode("overwrite").parquet(str(root / "raw" / "card_events"))
    per_day = (
        spark.read.parquet(str(root / "raw" / "card_events"))
        .groupBy(F.to_date("event_ts").alias("day"))
        .count()
        .collect()
    )
    manifest = {
        "users": users,
        "events": events,
        "columns": list(card_events.schema),
        "per_day": {str(r["day"]): r["count"] for r in per_day},
    }
    (root / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))
    spark.stop()


def compute_only(days: int, reference: bool) -> None:
    """Time read -> prepare -> compute of the range into the noop sink; print the result."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    from feature_jobs.settings import Settings
    from feature_jobs.sources import read_source
    from feature_jobs.spark.session import build_spark
    from feature_jobs.timeutil import date_range, snapshot_times
    from feature_jobs.transform import compute_snapshots, prepare_events, prune_events
    from tests.feature_jobs.event_pairing_reference import event_pairing_snapshots

    settings = Settings.from_env()
    spark = build_spark(settings, "skewless-backfill-compute")
    view = backfill_view
    times = [
        t for day in date_range(*range_days(days)) for t in snapshot_times(day, view.cadence_delta)
    ]
    started = time.monotonic()
    events = read_source(spark, settings, view.source)
    prepared = prepare_events(
        view, prune_events(view, events, times[0] - view.longest_window, times[-1])
    )
    compute = event_pairing_snapshots if reference else compute_snapshots
    rows = Observation("rows")
    snapshots = compute(view, prepared, times).observe(rows, F.count(F.lit(1)).alias("rows"))
    snapshots.write.format("noop").mode("overwrite").save()
    seconds = time.monotonic() - started
    print(f"RESULT rows={rows.get['rows']} seconds={seconds:.3f}", flush=True)
    spark.stop()


# -- the driver ------------------------------------------------------------------------


def run_measured(
    command: list[str], env: dict[str, str], cwd: Path = REPO
) -> tuple[float, float, float, str]:
    """Run ``command`` in a fresh process (in ``cwd``).

    Returns wall seconds, the peak RSS of its process tree in GB, the tree's CPU seconds
    (user + system; steadier than wall time on a busy machine) and its output.
    """
    import psutil

    started = time.monotonic()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    root_process = psutil.Process(process.pid)
    peak = 0
    cpu: dict[int, float] = {}  # last CPU time seen per process of the tree
    while process.poll() is None:
        try:
            tree = [root_process, *root_process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            for p in tree:
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.monotonic() - started
    log = process.stdout.read().decode() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{log[-4000:]}")
    return seconds, peak / 1e9, sum(cpu.values()), log


def events_read(root: Path, days: int) -> int:
    """Raw events with an event time in the range's scope, from the generation manifest."""
    first, last = range_days(days)
    per_day = json.loads((root / "manifest.json").read_text())["per_day"]
    scope_start = first - timedelta(days=LOOKBACK)
    return sum(n for day, n in per_day.items() if scope_start <= date.fromisoformat(day) <= last)


def ensure_data(root: Path, users: int, events: int, env: dict[str, str]) -> None:
    manifest = root / "manifest.json"
    if manifest.exists():
        known = json.loads(manifest.read_text())
        wanted = (users, events, list(card_events.schema))
        if (known["users"], known["events"], known.get("columns")) == wanted:
            return
    print(f"generating {events:,} events of {users:,} users under {root}", flush=True)
    command = [sys.executable, __file__, "--worker", "generate", "--root", str(root)]
    command += ["--users", str(users), "--events", str(events)]
    seconds, _, _, _ = run_measured(command, env)
    print(f"generated in {seconds:.0f} s", flush=True)


def materialize_once(root: Path, days: int, env: dict[str, str]) -> tuple[float, float, float, int]:
    warehouse = root / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)  # an empty warehouse every time
    first, last = range_days(days)
    command = [
        *(sys.executable, "-m", "feature_jobs", "materialize"),
        *("--view", backfill_view.name, "--start", str(first), "--end", str(last)),
    ]
    seconds, peak, cpu, log = run_measured(command, {**env, "DELTA_ROOT": str(warehouse)})
    # The view's progress line: "<view> D1..D2: N snapshots, R rows in one commit, ...".
    found = re.search(r" (\d+) rows in one commit|\brows=(\d+)", log)
    if found is None:
        raise SystemExit(f"no row count in the materialize output:\n{log[-2000:]}")
    return seconds, peak, cpu, int(found.group(1) or found.group(2))


def compute_once(
    days: int, reference: bool, env: dict[str, str]
) -> tuple[float, float, float, int]:
    """Seconds from reading the source to the last row computed (JVM start excluded)."""
    command = [sys.executable, __file__, "--worker", "compute", "--days", str(days)]
    _, peak, cpu, log = run_measured([*command, *(["--reference"] if reference else [])], env)
    result = next(line for line in log.splitlines() if line.startswith("RESULT "))
    fields = dict(part.split("=") for part in result.split()[1:])
    return float(fields["seconds"]), peak, cpu, int(fields["rows"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/tmp/skewless_backfill_bench")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", default="30,60,120", help=f"range sizes, at most {LONGEST_RANGE}")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--compute-only", action="store_true")
    parser.add_argument("--reference", action="store_true", help="also the former pairing")
    parser.add_argument("--shuffle-partitions", default="8")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--worker", choices=["generate", "compute"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = Path(args.root).resolve()
    if args.worker == "generate":
        generate(root, args.users, args.events)
        return
    if args.worker == "compute":
        compute_only(int(args.days), args.reference)
        return
    sizes = [int(d) for d in args.days.split(",")]
    if not all(0 < d <= LONGEST_RANGE for d in sizes):
        parser.error(f"--days: each size must be between 1 and {LONGEST_RANGE}")
    if args.reference and not args.compute_only:
        parser.error("--reference compares compute paths: use it with --compute-only")
    env = {
        **os.environ,
        "SKEWLESS_DATA_ROOT": str(root),
        "SKEWLESS_FEATURES": "backfill_bench",
        "PYTHONPATH": f"{Path(__file__).resolve().parent}{os.pathsep}{REPO}",
        "SPARK_MASTER": args.master,
        "SKEWLESS_SHUFFLE_PARTITIONS": args.shuffle_partitions,
        "SKEWLESS_DRIVER_MEMORY": args.driver_memory,
    }
    root.mkdir(parents=True, exist_ok=True)
    ensure_data(root, args.users, args.events, env)
    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}; "
        f"load average before: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    paths = [False, True] if args.reference else [False]
    for days in sizes:
        events = events_read(root, days)
        for _ in range(args.runs):
            for reference in paths:
                if args.compute_only:
                    seconds, peak, cpu, rows = compute_once(days, reference, env)
                    what = "compute, event pairing" if reference else "compute, partials"
                else:
                    seconds, peak, cpu, rows = materialize_once(root, days, env)
                    what = "materialize command"
                print(
                    f"{days:>3} days, {what}: {seconds:7.1f} s, {rows:,} rows, "
                    f"{events:,} events read: {rows / seconds:,.0f} rows/s, "
                    f"{events / seconds:,.0f} events/s; peak RSS of all processes "
                    f"{peak:.2f} GB, CPU of all processes {cpu:.0f} s "
                    f"(load {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()

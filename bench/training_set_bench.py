"""Benchmark of ``python -m feature_jobs training-set`` (issues 5 and 16).

Workload: one view of 100,000 entities with a snapshot row every day for 60 days
(6,000,000 rows, 8 double features) in the offline layout, and spines of 100k, 1M and 3M
rows at random times in those 60 days (10M with ``--spines``). Each run times the whole
command (``--engine auto`` by default: what a user gets; ``local`` or ``spark`` to force
one; a comma-separated list alternates them run by run) in a fresh
process (JVM start included) and samples the resident memory of the whole process tree
(Python driver + JVM + Python workers) every 50 ms; the peak of that sum is reported.

Usage::

    .venv/bin/python bench/training_set_bench.py [--root DIR] [--spines 100000,1000000,3000000]
        [--engines auto] [--runs 3] [--shuffle-partitions 8] [--driver-memory 2g]
        [--java-opts FLAGS]

This file is also the definitions module of the benchmark (``SKEWLESS_FEATURES=
training_set_bench`` with ``bench/`` on ``PYTHONPATH``); its view is defined below.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from feature_jobs.definitions import Entity, Feature, FeatureView, Source

ENTITIES = 100_000
DAYS = 60
FIRST_DAY = date(2024, 1, 1)
FEATURES = [f"f{i}" for i in range(1, 9)]
REPO = Path(__file__).resolve().parent.parent
CPU_SECONDS: list[float] = []  # CPU time of each run's process tree (less noisy than wall)

account = Entity(name="account", join_keys={"account_id": "long"})
payments = Source(
    name="payments",
    path="raw/payments",
    schema={
        "payment_id": "string",
        "account_id": "long",
        "amount": "double",
        "event_ts": "timestamp",
        "ingested_ts": "timestamp",
    },
    timestamp_column="event_ts",
    ingestion_timestamp_column="ingested_ts",
    dedup_key=["payment_id"],
)
bench_view = FeatureView(
    name="bench_account_stats",
    entity=account,
    source=payments,
    owner="bench@example.com",
    cadence="daily",
    max_age="2d",
    features=[
        Feature(name=name, function="sum", column="amount", window="7d") for name in FEATURES
    ],
)


def generate(root: Path, spine_sizes: list[int]) -> None:
    """Write the offline table (one Delta commit per day, as materialize does) and spines."""
    from pyspark.sql import functions as F

    from feature_jobs.offline import table_may_exist, write_snapshot
    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark

    settings = Settings.from_env({"SKEWLESS_DATA_ROOT": str(root), "SPARK_MASTER": "local[2]"})
    spark = build_spark(settings, "skewless-bench-generate")
    if not table_may_exist(settings, bench_view.name):
        for day in range(DAYS):
            logical = FIRST_DAY + timedelta(days=day)
            feature_ts = datetime(logical.year, logical.month, logical.day, tzinfo=UTC) + timedelta(
                days=1
            )
            frame = spark.range(ENTITIES, numPartitions=1).select(
                F.col("id").alias("account_id"),
                *[
                    (F.rand(seed=day * 10 + i) * 1000).alias(name)
                    for i, name in enumerate(FEATURES)
                ],
                F.lit(feature_ts).alias("feature_ts"),
                F.lit(logical).alias("snapshot_date"),
                F.lit(bench_view.version).alias("definition_version"),
                F.lit(f"bench-{day}").alias("run_id"),
                F.lit(feature_ts).alias("materialized_at"),
            )
            write_snapshot(spark, settings, bench_view, frame, feature_ts, f"bench-{day}")
            print(f"offline table: day {day + 1}/{DAYS} written", flush=True)
    start_us = int(datetime(2024, 1, 2, tzinfo=UTC).timestamp() * 1_000_000)
    span_us = DAYS * 86_400 * 1_000_000
    for size in spine_sizes:
        path = root / "spines" / f"spine_{size}"
        if path.exists():
            continue
        spark.range(size, numPartitions=2).select(
            (F.rand(seed=size) * ENTITIES).cast("long").alias("account_id"),
            F.timestamp_micros(
                (F.lit(start_us) + F.rand(seed=size + 1) * span_us).cast("long")
            ).alias("ts"),
            (F.rand(seed=size + 2) < 0.02).alias("label"),
        ).write.parquet(str(path))
        print(f"spine of {size} rows written", flush=True)
    spark.stop()


def run_once(root: Path, size: int, env: dict[str, str], engine: str) -> tuple[float, float, str]:
    """Run the command in a fresh process; (seconds, peak RSS of the tree in GB, engine used)."""
    import psutil

    output = root / "out" / f"train_{size}"
    command = [
        sys.executable,
        "-m",
        "feature_jobs",
        "training-set",
        "--spine",
        str(root / "spines" / f"spine_{size}"),
        "--features",
        ",".join(f"{bench_view.name}:{name}" for name in FEATURES),
        "--output",
        str(output),
        "--overwrite",
        "--engine",
        engine,
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    root_process = psutil.Process(process.pid)
    peak = 0
    cpu: dict[int, float] = {}  # last CPU time (user + system) seen per process of the tree
    own_peak = 0  # the command's own process, exact (the local engine is one process)
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            own_peak = usage.ru_maxrss * 1024
            break
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
    CPU_SECONDS.append(sum(cpu.values()))
    log = process.stdout.read().decode() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"training-set failed for {size} rows:\n{log}")
    used = "local" if "by the local engine" in log else "spark"
    return seconds, max(peak, own_peak) / 1e9, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/tmp/skewless_training_bench")
    parser.add_argument("--spines", default="100000,1000000,3000000")
    parser.add_argument(
        "--engines", default="auto", help="auto, local, spark, or a list to alternate"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shuffle-partitions", default="8")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument(
        "--java-opts",
        default="",
        help="extra driver JVM flags (SKEWLESS_JVM_OPTIONS: last on the command line, so they "
        "override the short-job profile)",
    )
    args = parser.parse_args()
    root = Path(args.root).resolve()
    sizes = [int(s) for s in args.spines.split(",")]
    generate(root, sizes)
    env = {
        **os.environ,
        "SKEWLESS_DATA_ROOT": str(root),
        "SKEWLESS_FEATURES": "training_set_bench",
        "PYTHONPATH": f"{Path(__file__).resolve().parent}{os.pathsep}{REPO}",
        "SPARK_MASTER": args.master,
        "SKEWLESS_SHUFFLE_PARTITIONS": args.shuffle_partitions,
        "SKEWLESS_DRIVER_MEMORY": args.driver_memory,
    }
    if args.java_opts:
        env["SKEWLESS_JVM_OPTIONS"] = args.java_opts
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    engines = args.engines.split(",")
    for size in sizes:
        runs: dict[str, list[tuple[float, float, str]]] = {e: [] for e in engines}
        cpu: dict[str, list[float]] = {e: [] for e in engines}
        for _ in range(args.runs):
            for engine in engines:  # alternating, so a drift of the machine hits all alike
                CPU_SECONDS.clear()
                runs[engine].append(run_once(root, size, env, engine))
                cpu[engine].append(CPU_SECONDS[-1])
        for engine in engines:
            times = [t for t, _, _ in runs[engine]]
            peaks = [m for _, m, _ in runs[engine]]
            used = ",".join(sorted({u for _, _, u in runs[engine]}))
            print(
                f"spine {size:>10,} rows, --engine {engine} (ran {used}): median "
                f"{statistics.median(times):6.2f} s (min {min(times):.2f}, max {max(times):.2f}); "
                f"peak RSS of all processes median {statistics.median(peaks):.2f} GB "
                f"(max {max(peaks):.2f}); CPU median {statistics.median(cpu[engine]):.1f} s",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()

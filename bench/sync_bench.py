"""Benchmark: sync one view of 100,000 entities x 8 numeric features from Delta to Redis.

Prints sync throughput (entity rows/s, end to end: Delta read, executors' pipelined
writes, go-live, sync log), the write job alone, Redis memory per entity, and the
``redis-benchmark -P 64 -t hset`` ceiling of the same server in the same run:

    .venv/bin/python bench/sync_bench.py --entities 100000 --repeat 3

Figures and the machine they ran on go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.online_views import bench_stats  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402


def write_offline(spark, settings, day: date, entities: int, partitions: int) -> None:  # type: ignore[no-untyped-def]
    """The snapshot of ``day`` in the offline layout, random doubles, ``partitions`` files."""
    from pyspark.sql import functions as F

    from feature_jobs.offline import write_snapshot

    feature_ts = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    frame = spark.range(entities).select(
        F.col("id").alias("user_id"),
        *((F.rand(seed=i) * 1000).alias(f.name) for i, f in enumerate(bench_stats.features)),
        F.lit(feature_ts).alias("feature_ts"),
        F.lit(day).alias("snapshot_date"),
        F.lit(bench_stats.version).alias("definition_version"),
        F.lit("bench").alias("run_id"),
        F.current_timestamp().alias("materialized_at"),
    )
    write_snapshot(spark, settings, bench_stats, frame.repartition(partitions), feature_ts, "bench")


def hset_ceiling(port: int) -> str:
    """``redis-benchmark -P 64 -t hset`` requests/s against the same server, or why not."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return "n/a (redis-benchmark not installed: apt-get install redis-tools)"
    out = subprocess.run(
        [binary, "-p", str(port), "-P", "64", "-t", "hset", "-n", "2000000", "-q"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"HSET: ([\d.]+) requests per second", out.replace("\r", "\n"))
    return match.group(1) if match else out.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="skewless-sync-bench-"))
    server = RedisServer(root / "redis").start()
    from feature_jobs.online import sync as sync_module
    from feature_jobs.online.connection import connect
    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark

    settings = Settings.from_env(
        {"SKEWLESS_DATA_ROOT": str(root), "SPARK_MASTER": args.master, "REDIS_URL": server.url}
    )
    load_before = os.getloadavg()
    spark = build_spark(settings, "skewless-bench-sync")
    day = date(2026, 3, 1)
    write_offline(spark, settings, day, args.entities, args.partitions)
    client = connect(server.url)
    baseline = client.info("memory")["used_memory"]

    write_seconds: list[float] = []
    real_write = sync_module._write

    def timed_write(*a, **k):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        rows = real_write(*a, **k)
        write_seconds.append(time.perf_counter() - t0)
        return rows

    sync_module._write = timed_write  # type: ignore[assignment]
    totals = []
    for i in range(args.repeat + 1):  # the first run warms the JVM up and is not counted
        result = sync_module.sync(spark, settings, bench_stats, day, grace=timedelta(0))
        assert result.published and result.rows == args.entities
        if i:
            totals.append(result.seconds)
    time.sleep(1.0)  # superseded snapshots (grace 0) expire
    used = client.info("memory")["used_memory"] - baseline
    ceiling = hset_ceiling(server.port)
    load_after = os.getloadavg()

    best, best_write = min(totals), min(write_seconds[1:])
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    print(
        f"workload: 1 view, {args.entities} entities x 8 doubles, {args.partitions} Delta "
        f"files, Spark {args.master}"
    )
    print(
        f"sync end to end (best of {args.repeat}): {best:.2f}s = "
        f"{args.entities / best:,.0f} entity rows/s (all: "
        f"{', '.join(f'{t:.2f}' for t in totals)} s)"
    )
    print(
        f"  of which Delta read + executor writes (best): {best_write:.2f}s = "
        f"{args.entities / best_write:,.0f} rows/s"
    )
    print(f"redis-benchmark -P 64 -t hset: {ceiling} requests/s")
    if ceiling.replace(".", "").isdigit():
        print(f"sync as a fraction of that ceiling: {args.entities / best / float(ceiling):.1%}")
    print(
        f"Redis memory per entity: {used / args.entities:.0f} bytes "
        f"({used / 2**20:.1f} MiB for {args.entities} entities, keys {client.dbsize()})"
    )
    spark.stop()
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

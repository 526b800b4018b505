"""Benchmark: VACUUM of a small offline table, with Delta's default file-listing
parallelism and with the one ``guarded_vacuum`` sets (the shuffle partitions).

Writes a table like a view's offline table (45 ``snapshot_date`` partitions, 3 files
each, then 45 replaced dates), and times ``DeltaTable.vacuum`` alternately in one
Spark session:

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LISTING = "spark.sql.sources.parallelPartitionDiscovery.parallelism"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark

    settings = Settings.from_env()
    spark = build_spark(settings, "skewless-bench-vacuum")
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    table = str(Path(tempfile.mkdtemp(prefix="skewless-vacuum-bench-")) / "offline")
    rows = spark.range(90_000).select(
        F.col("id").alias("user_id"),
        F.date_add(F.lit("2026-10-22").cast("date"), (F.col("id") % 45).cast("int")).alias(
            "snapshot_date"
        ),
    )
    for _ in range(2):  # the second write replaces every file of the first
        rows.repartition(3).write.format("delta").mode("overwrite").partitionBy(
            "snapshot_date"
        ).save(table)
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"table: {table}, {spark.read.format('delta').load(table).inputFiles().__len__()} files")
    for round_no in range(args.rounds):
        for parallelism in (None, str(settings.shuffle_partitions)):
            if parallelism is None:
                spark.conf.unset(LISTING)
            else:
                spark.conf.set(LISTING, parallelism)
            started = time.monotonic()
            DeltaTable.forPath(spark, table).vacuum(100.0)
            seconds = time.monotonic() - started
            label = parallelism or "Delta's default (10000)"
            print(f"round {round_no + 1}: listing parallelism {label}: {seconds:.1f} s", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()

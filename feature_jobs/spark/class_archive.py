"""Build the class-data-sharing archive that lets a fresh driver JVM start warm.

``python -m feature_jobs.spark.class_archive`` (``make setup`` runs it) starts a local
Spark session with ``-XX:ArchiveClassesAtExit``, runs a small but complete training-set
build (Delta writes, a pinned Delta read, the as-of lookup, the join, observed metrics, a
Parquet write) so that the classes every skewless job needs are loaded, and stops it: the
JVM writes the archive as it exits. Later JVMs map those classes from the archive instead
of loading and verifying them again (:mod:`feature_jobs.spark.jvm_options`).

It shortens the start of every command, most of all the time until Spark is ready
(figures in bench/README.md, "Training sets").

The archive is tied to the JDK build and to the exact class path; a JVM that does not
match ignores it. Its file name carries the pyspark version, so upgrading Spark asks for
a new one (rerun this command).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from feature_jobs.errors import ConfigError, SkewlessError

#: How long the exiting JVM may take to write the archive (about 200 MB).
_DUMP_TIMEOUT_S = 600


def archive_path(jars_dir: Path) -> Path:
    """Where the archive of this pyspark version lives (next to the Delta jars' folder)."""
    return jars_dir.parent / "jvm" / f"skewless-pyspark-{metadata.version('pyspark')}.jsa"


def build_archive(jars_dir: Path) -> Path:
    """Build the archive (in a child process), replacing any old one; return its path.

    Raises:
        ConfigError: the workload failed or the JVM wrote no archive.
    """
    target = archive_path(jars_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="skewless-class-archive-") as work:
        env = dict(os.environ)
        env.update(
            SKEWLESS_JARS_DIR=str(jars_dir),
            SKEWLESS_DATA_ROOT=work,
            SKEWLESS_CLASS_ARCHIVE="off",  # never map an old archive while writing a new one
            SKEWLESS_JVM_OPTIONS=f"-XX:ArchiveClassesAtExit={partial} -Xlog:cds=off "
            "-Xlog:cds+dynamic=off",
            SPARK_MASTER="local[2]",
        )
        command = [sys.executable, "-m", "feature_jobs.spark.class_archive", "--workload"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ConfigError(f"building the class archive failed: {tail[0]}")
    if not partial.is_file():
        raise ConfigError(
            f"the JVM wrote no class archive to {partial}; check that `java` is a HotSpot "
            "JDK 17 or newer"
        )
    partial.replace(target)
    return target


def run_workload() -> None:
    """A small training-set build that loads what real jobs load; waits for the JVM to exit."""
    from pyspark import SparkContext
    from pyspark.sql import functions as F

    from feature_jobs.definitions import Entity, Feature, FeatureView, Source
    from feature_jobs.definitions.registry import build_registry
    from feature_jobs.definitions.service import FeatureRef
    from feature_jobs.offline import with_bookkeeping, write_snapshots
    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark
    from feature_jobs.training.job import build_training_set
    from feature_jobs.training.request import TrainingSetRequest

    settings = Settings.from_env(dict(os.environ))
    account = Entity(name="account", join_keys={"account_id": "long"})
    source = Source(
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
    view = FeatureView(
        name="archive_warmup",
        entity=account,
        source=source,
        owner="setup@example.com",
        cadence="daily",
        max_age="2d",
        features=[Feature(name="spend_7d", function="sum", column="amount", window="7d")],
    )
    spark = build_spark(settings, "skewless-class-archive")
    # Three daily snapshots in one commit, as a materialize range writes them.
    times = [datetime(2024, 1, 2, tzinfo=UTC) + timedelta(days=day) for day in range(3)]
    computed = spark.range(200, numPartitions=2).select(
        F.col("id").alias("account_id"),
        (F.col("id") * 1.5).alias("spend_7d"),
        F.explode(F.array(*[F.lit(ts) for ts in times])).alias("feature_ts"),
    )
    rows = with_bookkeeping(computed, view, "warmup", times[-1])
    write_snapshots(spark, settings, view, rows, times, "warmup")
    spine = settings.data_root / "spine"
    spark.range(2_000, numPartitions=2).select(
        (F.col("id") % 250).alias("account_id"),
        F.timestamp_seconds(F.lit(1_704_153_600) + F.col("id") * 97).alias("ts"),
        (F.col("id") % 7 == 0).alias("label"),
    ).write.parquet(str(spine))
    request = TrainingSetRequest(
        spine=spine,
        spine_format="parquet",
        timestamp_column="ts",
        features=(FeatureRef(view.name, "spend_7d"),),
        output=settings.data_root / "training_set",
    )
    build_training_set(spark, settings, build_registry([view]), request)
    # The JVM writes the archive while it exits: close it and wait for that.
    gateway = SparkContext._gateway
    spark.stop()
    process = getattr(gateway, "proc", None)
    if gateway is not None:
        gateway.shutdown()
    if process is not None:
        if process.stdin is not None:
            process.stdin.close()  # the launcher exits when its stdin closes
        process.wait(timeout=_DUMP_TIMEOUT_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m feature_jobs.spark.class_archive",
        description="Build the class-data-sharing archive that lets skewless' driver JVMs "
        "start warm (make setup runs this once; about a minute).",
    )
    parser.add_argument(
        "--jars-dir",
        type=Path,
        default=None,
        help="the Delta jars folder (default: SKEWLESS_JARS_DIR or .cache/jars)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if it exists")
    parser.add_argument("--workload", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.workload:
            run_workload()
            return 0
        from feature_jobs.settings import Settings

        jars_dir = args.jars_dir or Settings.from_env(dict(os.environ)).jars_dir
        target = archive_path(jars_dir)
        if target.is_file() and not args.force:
            print(f"class archive present: {target}")
            return 0
        print("building the class archive (a small Spark job; about a minute)...", flush=True)
        started = time.monotonic()
        path = build_archive(jars_dir)
        size_mb, seconds = path.stat().st_size / 1e6, time.monotonic() - started
        print(f"class archive written: {path} ({size_mb:.0f} MB, {seconds:.0f}s)")
        return 0
    except SkewlessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""The application spark-submit runs: ``spark-submit feature_jobs/spark_entry.py ARGS``.

It runs exactly what ``python -m feature_jobs ARGS`` runs, so a job scheduled by Airflow
and a job typed by a person are the same code path. The only difference is who chose the
Spark master: under spark-submit it is ``--master`` (the Airflow connection), so that
value is copied into ``SPARK_MASTER`` before the settings are read. Otherwise the
session builder would set its own default master over it, and moving to a cluster would
need a code change instead of a connection change.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _submitted_master() -> str | None:
    """The master spark-submit was given, read from the running JVM's Spark conf."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return None  # started with plain python: nothing was submitted
    from pyspark import SparkConf, SparkContext

    # Connect to the JVM spark-submit started; only then does SparkConf read the
    # properties spark-submit set (without it, it is an empty Python-side conf).
    SparkContext._ensure_initialized()
    return SparkConf().get("spark.master", None)


def main(argv: list[str]) -> int:
    """Run one ``feature_jobs`` subcommand inside a spark-submit driver."""
    # spark-submit puts this file's folder on sys.path, not the project root.
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    master = _submitted_master()
    if master:
        os.environ["SPARK_MASTER"] = master
    from feature_jobs.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Packing a small scan into one task per core.

Spark splits a file scan into at least ``spark.default.parallelism`` tasks (set to the
shuffle partition count, 8 by default, sized for shuffles). A snapshot of a few small
files then runs as several tiny tasks per core, and in a sync each task pays a Python
worker hand-off and a Redis connection: packing them one task per core made the write
job of a sync faster (figures in bench/README.md).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def local_cores(master: str) -> int | None:
    """Worker threads of a ``local[...]`` master (None for a cluster, where it is unknown)."""
    if master == "local":
        return 1
    match = re.fullmatch(r"local\[(\*|\d+)(?:,\s*\d+)?\]", master)
    if match is None:
        return None
    return (os.cpu_count() or 1) if match.group(1) == "*" else int(match.group(1))


def one_task_per_core(spark: SparkSession) -> dict[str, str]:
    """Session settings that give a scan one task per core (none outside local mode)."""
    cores = local_cores(spark.sparkContext.master or "")
    return {} if cores is None else {"spark.sql.leafNodeDefaultParallelism": str(cores)}

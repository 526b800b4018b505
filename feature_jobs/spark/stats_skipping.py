"""Turning Delta's statistics-based file skipping off for queries it cannot help.

Before every query on a Delta table, Delta runs a Spark job over the table's file list
to drop files whose column statistics rule the filter out. That pays off for a selective
filter on a non-partition column; it is pure cost (one more Spark job per query, see
bench/README.md) for a query that reads whole partitions - a whole-table training read,
or a daily view's snapshot, which is exactly one ``snapshot_date`` partition. Partition
pruning does not depend on it and stays on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from feature_jobs.spark.scoped_conf import scoped_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SETTING = "spark.databricks.delta.stats.skipping"


@contextmanager
def stats_skipping_off(spark: SparkSession, enabled: bool = True) -> Iterator[None]:
    """Plan and run the queries of the block without statistics-based file skipping.

    Args:
        spark: the session (the setting is session-wide while the block runs).
        enabled: False leaves skipping as it is (for callers that decide per query).
    """
    with scoped_conf(spark, {SETTING: "false"} if enabled else {}):
        yield

"""Spark read tuning: session settings per block, scans without statistics, one task per core."""

from __future__ import annotations

import pytest

from feature_jobs.spark.scan_tasks import local_cores, one_task_per_core
from feature_jobs.spark.scoped_conf import scoped_conf
from feature_jobs.spark.stats_skipping import SETTING, stats_skipping_off


def test_scoped_conf_restores_set_and_unset_settings(spark) -> None:  # type: ignore[no-untyped-def]
    spark.conf.set("spark.skewless.test.kept", "before")
    spark.conf.unset("spark.skewless.test.absent")
    with scoped_conf(spark, {"spark.skewless.test.kept": "x", "spark.skewless.test.absent": "y"}):
        assert spark.conf.get("spark.skewless.test.kept") == "x"
        assert spark.conf.get("spark.skewless.test.absent") == "y"
    assert spark.conf.get("spark.skewless.test.kept") == "before"
    assert spark.conf.get("spark.skewless.test.absent", None) is None
    with pytest.raises(RuntimeError), scoped_conf(spark, {"spark.skewless.test.kept": "z"}):
        raise RuntimeError("a failing block still restores")
    assert spark.conf.get("spark.skewless.test.kept") == "before"


def test_reads_without_stats_skipping_still_prune_partitions_and_filter(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from pyspark.sql import functions as F

    table = tmp_path / "parts"
    frame = spark.range(40).select(
        F.col("id"), (F.col("id") % 4).alias("part"), (F.col("id") % 3).alias("other")
    )
    frame.write.format("delta").partitionBy("part").save(str(table))
    # Partition 2's files are gone from disk: a query that opened them would fail.
    shutil.rmtree(table / "part=2")
    with stats_skipping_off(spark):
        assert spark.conf.get(SETTING) == "false"
        query = spark.read.format("delta").load(str(table)).where("part = 1 AND other = 0")
        ids = sorted(r["id"] for r in query.collect())
        with pytest.raises(Exception, match=r"(?i)not.?found|does not exist"):
            spark.read.format("delta").load(str(table)).where("other = 0").collect()
    assert ids == [i for i in range(40) if i % 4 == 1 and i % 3 == 0]
    assert spark.conf.get(SETTING, None) in (None, "true")


@pytest.mark.parametrize(
    ("master", "cores"),
    [("local", 1), ("local[2]", 2), ("local[3, 4]", 3), ("spark://h:7077", None), ("yarn", None)],
)
def test_local_cores_reads_the_master_url(master: str, cores: int | None) -> None:
    assert local_cores(master) == cores


def test_local_star_means_every_cpu() -> None:
    import os

    assert local_cores("local[*]") == (os.cpu_count() or 1)


def test_a_small_scan_gets_one_task_per_core(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = str(tmp_path / "small")
    spark.range(4000).repartition(6).write.format("delta").save(table)
    with scoped_conf(spark, {"spark.sql.leafNodeDefaultParallelism": "6"}):  # as with 8 cores
        frame = spark.read.format("delta").load(table)
        assert frame.rdd.getNumPartitions() > 2
    with scoped_conf(spark, one_task_per_core(spark)):
        packed = spark.read.format("delta").load(table)
        assert packed.rdd.getNumPartitions() == 2  # the test session is local[2]
        assert packed.count() == 4000

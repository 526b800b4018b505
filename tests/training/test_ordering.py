"""The training set keeps the spine's row order without a global sort."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feature_jobs.training.ordering import in_spine_order, murmur3_int, partition_keys


def test_murmur3_matches_spark_hash(spark: SparkSession) -> None:
    values = [*range(-300, 300), 2**31 - 1, -(2**31), 123456789, -987654321]
    frame = spark.createDataFrame([(v,) for v in values], "v int")
    got = {r.v: r.h for r in frame.select("v", F.hash("v").alias("h")).collect()}
    assert {v: murmur3_int(v) for v in values} == got
    for n in (1, 2, 7, 200):
        keys = partition_keys(n)
        assert [murmur3_int(k) % n for k in keys] == list(range(n))


def test_rows_come_back_in_spine_order(spark: SparkSession, tmp_path: Path) -> None:
    # A spine of several files of different sizes, read as several partitions.
    spark.range(0, 5000, numPartitions=3).select(
        (F.col("id") * 7919 % 5000).alias("key"), (F.col("id") % 13).alias("label")
    ).write.parquet(str(tmp_path / "spine"))
    spine = spark.read.parquet(str(tmp_path / "spine")).withColumn(
        "rid", F.monotonically_increasing_id()
    )
    partitions = spine.rdd.getNumPartitions()
    assert partitions > 1
    read_order = [(r.key, r.label) for r in spine.collect()]
    # A join-like shuffle scrambles the rows; the ordering puts them back.
    scrambled = spine.repartition(5, "key")
    in_spine_order(scrambled, "rid", partitions).drop("rid").write.parquet(str(tmp_path / "out"))
    files = sorted((tmp_path / "out").glob("part-*.parquet"))
    written = [
        (key, label)
        for f in files
        for key, label in zip(*pq.read_table(f).to_pydict().values(), strict=True)
    ]
    assert written == read_order

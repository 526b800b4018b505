"""The former step 4 of ``feature_jobs.transform``, kept only as a differential reference.

Every event is paired with every snapshot time whose scope ``[C - longest window, C)``
holds it, then one group-by over ``(keys, feature_ts)`` aggregates each feature over its
own window. Its cost is events x window-days, which is why the engine no longer uses it;
its results are the ones the engine's partial-aggregate path must reproduce. Used by
``test_partial_aggregates`` and by ``bench/backfill_bench.py --reference``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from feature_jobs.definitions import Feature, FeatureView
from feature_jobs.definitions.types import SPARK_TYPES

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def event_pairing_snapshots(
    view: FeatureView, prepared: DataFrame, times: Sequence[datetime]
) -> DataFrame:
    """Snapshots at ``times`` by pairing every prepared event with the times in its scope."""
    from pyspark.sql import functions as F

    spark = prepared.sparkSession
    snapshot_times = spark.createDataFrame([(t,) for t in times], "feature_ts timestamp")
    event_us = F.unix_micros(F.col(view.source.timestamp_column))
    snapshot_us = F.unix_micros(F.col("feature_ts"))
    longest_us = int(view.longest_window.total_seconds()) * 1_000_000
    in_scope = (event_us < snapshot_us) & (event_us >= snapshot_us - longest_us)
    paired = prepared.join(F.broadcast(snapshot_times), in_scope, "inner")
    aggregates = [_aggregate(view, feature) for feature in view.features]
    snapshots = paired.groupBy(*view.keys, "feature_ts").agg(*aggregates)
    return snapshots.select(*view.keys, *[f.name for f in view.features], "feature_ts")


def _aggregate(view: FeatureView, feature: Feature) -> Column:
    from pyspark.sql import functions as F

    source = view.source
    event_us = F.unix_micros(F.col(source.timestamp_column))
    window_us = int(feature.window_delta.total_seconds()) * 1_000_000
    in_window = event_us >= F.unix_micros(F.col("feature_ts")) - window_us
    if feature.filter:
        in_window = in_window & F.coalesce(F.expr(feature.filter), F.lit(False))
    if feature.expression is not None:
        value = F.expr(feature.expression)
    elif feature.column is not None:
        value = F.col(feature.column)
    else:
        value = F.lit(1)
    out_type = SPARK_TYPES[view.output_type(feature.name)]
    selected = F.when(in_window, value)
    if feature.function == "count":
        result = F.count(selected)  # the non-null inputs (a bare count's is 1)
    elif feature.function == "count_distinct":
        result = F.count_distinct(selected)
    elif feature.function == "sum":
        result = F.sum(selected)
    elif feature.function == "avg":
        result = F.avg(selected)
    elif feature.function == "min":
        result = F.min(selected)
    elif feature.function == "max":
        result = F.max(selected)
    else:  # last: the value of the latest event; equal times resolved by the dedup key
        tiebreak = [F.col(c).cast("string") for c in source.dedup_key]
        ordering = F.when(in_window, F.struct(F.col(source.timestamp_column), *tiebreak))
        result = F.max_by(value, ordering)
    return result.cast(out_type).alias(feature.name)

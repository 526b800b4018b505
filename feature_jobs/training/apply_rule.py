"""Turn a joined (spine row, snapshot row) pair into served values, by the shared rule.

Both join modes end here: they find, for each spine row, the snapshot that applies
(its ``feature_ts``, or null before the first one) and the entity's row in it (or
none). What the row then gets - PRESENT/MISSING/STALE and values or defaults - is
decided by :mod:`feature_jobs.serving_rule`, the very function online reads call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.serving_rule import spark_fill_value, spark_outcome
from feature_jobs.training.hashing import qcol
from feature_jobs.training.request import ViewRequest

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: Columns a join leaves for :func:`served_columns`, per view (suffixed with the view's index).
SNAPSHOT_TS = "__skewless_snapshot_ts"
PRESENT = "__skewless_present"


def raw_feature(request: ViewRequest, feature: str) -> str:
    """Name of a feature's raw (pre-rule) column while joins are in flight."""
    return f"__skewless_raw__{request.view.name}__{feature}"


def served_columns(df: DataFrame, request: ViewRequest, ts_column: str) -> DataFrame:
    """Replace the raw columns of one view by its output columns.

    Expects ``SNAPSHOT_TS`` (feature_ts of the applicable snapshot, null if none),
    ``PRESENT`` (true when the entity has a row in it) and :func:`raw_feature` columns.
    """
    from pyspark.sql import functions as F

    view = request.view
    snapshot_ts = F.col(SNAPSHOT_TS)
    has_snapshot = snapshot_ts.isNotNull()
    max_age_us = int(view.max_age_delta.total_seconds() * 1_000_000)
    # Age is compared in whole microseconds, the resolution of Spark timestamps.
    stale = has_snapshot & (
        F.unix_micros(qcol(ts_column)) - F.unix_micros(snapshot_ts) > F.lit(max_age_us)
    )
    present = F.coalesce(F.col(PRESENT), F.lit(False))
    status, fill = spark_outcome(
        has_snapshot, F.coalesce(stale, F.lit(False)), present, view.on_stale
    )
    fill_name = "__skewless_fill"
    df = df.withColumn(request.status_column, status).withColumn(fill_name, fill)
    for feature in request.features:
        spark_type = SPARK_TYPES[view.output_type(feature)]
        default = view.feature(feature).effective_default()
        value = spark_fill_value(
            F.col(fill_name), F.col(raw_feature(request, feature)), default, spark_type
        )
        df = df.withColumn(request.column(feature), value)
    df = df.withColumn(request.feature_ts_column, snapshot_ts)
    return df.drop(
        fill_name, SNAPSHOT_TS, PRESENT, *[raw_feature(request, f) for f in request.features]
    )

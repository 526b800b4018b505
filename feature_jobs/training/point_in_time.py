"""Event-time mode: each spine row gets the latest snapshot of each view at or before its ts.

Per view, in numbered steps (the event-time rule of the README's "Training sets"):

1. the view's snapshot times: the distinct ``feature_ts`` of its offline table (a few
   dozen rows, read from the pinned Delta version);
2. the as-of lookup (:mod:`feature_jobs.training.asof`): each spine row gets the latest
   snapshot time ``<= ts``, or null before the first snapshot;
3. a left equi-join on ``(keys, snapshot time)`` with the offline rows: the entity's
   row in that snapshot, or none when it is absent (for a small spine, the offline rows
   no spine row can match are dropped first: :mod:`feature_jobs.training.prefilter`);
4. the shared serving rule turns that into a status and values.

It is a *snapshot* join, not a last-row-per-entity join: an entity absent from the
applicable snapshot is MISSING even if an older snapshot had it, exactly as online.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.training.apply_rule import PRESENT, SNAPSHOT_TS, raw_feature, served_columns
from feature_jobs.training.asof import asof_lookup
from feature_jobs.training.hashing import qcol
from feature_jobs.training.prefilter import matchable_rows
from feature_jobs.training.request import ViewRequest

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

_ASOF = "__skewless_asof"
_MATCH_TS = "__skewless_match_ts"


def bucket_unit(request: ViewRequest) -> str:
    """As-of bucket width for a view: its cadence (daily snapshots land on day starts)."""
    return "hour" if request.view.cadence == "hourly" else "day"


def event_time_join(
    spine: DataFrame,
    ts_column: str,
    request: ViewRequest,
    offline: DataFrame,
    prefilter: bool = False,
) -> DataFrame:
    """Add one view's output columns to ``spine`` (event-time mode).

    Args:
        spine: spine rows (any extra columns are carried along untouched).
        ts_column: the spine's UTC timestamp column.
        request: the view and which of its features to add.
        offline: the view's offline table, read at a pinned Delta version.
        prefilter: drop the offline rows no spine row can match before the join's
            shuffle (:mod:`feature_jobs.training.prefilter`; pays for small spines).
    """
    from pyspark.sql import functions as F

    # Step 1: the view's snapshot times, a tiny table.
    instants = offline.select(F.col("feature_ts").alias("t")).distinct()
    # Step 2: as-of lookup of the applicable snapshot time per spine row.
    located = asof_lookup(spine, ts_column, instants, bucket_unit(request), _ASOF)
    located = located.withColumn(SNAPSHOT_TS, F.col(f"{_ASOF}.t")).drop(_ASOF)
    # Step 3: the entity's row in that snapshot (keys are unique per snapshot).
    right = snapshot_rows(offline, request, F.col("feature_ts").alias(_MATCH_TS))
    # The presence marker is derived after the join (a matched row has a non-null match
    # time) rather than shuffled with each of the offline rows.
    right = right.drop(PRESENT)
    if prefilter:
        keys = list(request.view.keys)
        right = matchable_rows(
            right, right_key_names(request), _MATCH_TS, located, keys, SNAPSHOT_TS
        )
    joined = located.join(right, join_condition(request, SNAPSHOT_TS, _MATCH_TS), "left")
    joined = joined.withColumn(PRESENT, F.col(_MATCH_TS).isNotNull())
    joined = joined.drop(*right_key_names(request), _MATCH_TS)
    # Step 4: the serving rule.
    return served_columns(joined, request, ts_column)


def snapshot_rows(offline: DataFrame, request: ViewRequest, *extra: Column) -> DataFrame:
    """The right side of the join: renamed keys, ``extra`` columns, raw features, a marker.

    A feature missing from the table (added to the definition after that version was
    written) reads as null, i.e. it takes its default.
    """
    from pyspark.sql import functions as F

    view = request.view
    features = []
    for feature in request.features:
        if feature in offline.columns:
            value = qcol(feature)
        else:
            value = F.lit(None).cast(SPARK_TYPES[view.output_type(feature)])
        features.append(value.alias(raw_feature(request, feature)))
    keys = [qcol(k).alias(n) for k, n in zip(view.keys, right_key_names(request), strict=True)]
    return offline.select(*keys, *extra, *features, F.lit(True).alias(PRESENT))


def right_key_names(request: ViewRequest) -> list[str]:
    """Names of the view's keys on the right side of the join (never clash with the spine)."""
    return [f"__skewless_key_{i}" for i in range(len(request.view.keys))]


def join_condition(request: ViewRequest, left_match: str, right_match: str) -> Column:
    """Equality on every entity key plus the snapshot (or publication) identifier."""
    from pyspark.sql import functions as F

    condition = F.col(left_match) == F.col(right_match)
    for key, right in zip(request.view.keys, right_key_names(request), strict=True):
        condition = condition & (qcol(key) == F.col(right))
    return condition

"""The one transformation path: source events -> a feature view's snapshot at time C.

Steps, each a DataFrame -> DataFrame function:
  1. prune to the event-time range the run needs, keeping null times so checks see them;
  2. deduplicate records by the source's key (the newest delivery wins);
  3. apply the source filter, the view's derived columns and the view filter;
  4. aggregate every feature over its own window ``[C - W, C)``: partial aggregates per
     entity and bucket of time, merged per snapshot time (see :func:`compute_snapshots`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.definitions import Feature, FeatureView
from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.errors import DefinitionError, first_line
from feature_jobs.expression_guard import check_definition_expressions, check_planned_expressions
from feature_jobs.timeutil import epoch_micros, require_utc

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

# Step 4's working columns, named like step 2's ``__delivery``.
_US, _BUCKET, _TICK = "__event_us", "__bucket", "__tick"


def prune_events(view: FeatureView, events: DataFrame, start: datetime, end: datetime) -> DataFrame:
    """Step 1: events with event time in ``[start, end)``, plus null times for the checks."""
    from pyspark.sql import functions as F

    ts = F.col(view.source.timestamp_column)
    return events.where(((ts >= F.lit(start)) & (ts < F.lit(end))) | ts.isNull())


def prepare_events(view: FeatureView, pruned: DataFrame) -> DataFrame:
    """Steps 2-3: deduplicated, filtered events with the view's derived columns."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    source = view.source
    deduplicated = pruned.where(F.col(source.timestamp_column).isNotNull())
    if source.dedup_key:
        order = [F.col(source.timestamp_column).desc()]
        if source.ingestion_timestamp_column:
            order.insert(0, F.col(source.ingestion_timestamp_column).desc_nulls_last())
        newest_first = Window.partitionBy(*source.dedup_key).orderBy(*order)
        deduplicated = (
            deduplicated.withColumn("__delivery", F.row_number().over(newest_first))
            .where(F.col("__delivery") == 1)
            .drop("__delivery")
        )
    prepared = _apply_expr(deduplicated, view, "source filter", source.filter)
    for derived in view.derived_columns:
        expression = _sql(view, f"derived column {derived.name}", derived.expression)
        prepared = prepared.withColumn(derived.name, expression.cast(SPARK_TYPES[derived.dtype]))
    return _apply_expr(prepared, view, "filter", view.filter)


def compute_snapshot(view: FeatureView, prepared: DataFrame, feature_ts: datetime) -> DataFrame:
    """Step 4 for one snapshot time; see :func:`compute_snapshots`."""
    return compute_snapshots(view, prepared, [feature_ts])


def compute_snapshots(
    view: FeatureView, prepared: DataFrame, times: Sequence[datetime]
) -> DataFrame:
    """Step 4: for each snapshot time C, one row per entity with an event in its scope.

    An entity's scope at C is ``[C - longest window, C)``; each feature covers its own
    window ``[C - W, C)``. A whole date range is aggregated in one plan, where the events
    of one entity and bucket of time count once: the pairing below grows with (keys,
    bucket) rows x buckets of the longest window, not with events x window length:

      a. every event falls in a *bucket*: the longest duration dividing the cadence, every
         window, a day and every C (a day for daily views, an hour for hourly ones), so a
         window is exactly a run of whole buckets;
      b. per (keys, bucket), partial aggregates of every feature, its filter applied;
      c. each (keys, bucket) row is paired with the snapshot times whose scope holds it;
      d. per (keys, C), each feature merges the partials of the buckets in its window.

    The events are partitioned by the keys once, before (b), so (b), (c) and (d) run
    where the entity's rows already are: only events cross the network, never pairs.
    Columns: the join keys, every feature in declared order, ``feature_ts``.
    """
    from pyspark.sql import functions as F

    snapshot_us = sorted({epoch_micros(require_utc(t, "feature_ts")) for t in times})
    if not snapshot_us:
        raise ValueError("compute_snapshots needs at least one snapshot time")
    bucket_us = _bucket_micros(view, snapshot_us)
    ticks = [us // bucket_us for us in snapshot_us]  # each C as a bucket index
    scope = _micros(view.longest_window) // bucket_us
    event_us = F.unix_micros(F.col(view.source.timestamp_column))
    first_us, last_us = snapshot_us[0] - _micros(view.longest_window), snapshot_us[-1]
    in_some_scope = (event_us >= first_us) & (event_us < last_us)

    # (a, b) One shuffle by the keys, then partial aggregates per (keys, bucket).
    partials = (
        prepared.where(in_some_scope)
        .repartition(*view.keys)
        .withColumn(_US, event_us)
        .withColumn(_BUCKET, F.expr(f"({_US} - pmod({_US}, {bucket_us})) div {bucket_us}"))
        .groupBy(*view.keys, _BUCKET)
        .agg(*[c for i, f in enumerate(view.features) for c in _partials(view, f, i)])
    )
    # (c) A bucket b is in the scope of C = tick c when b < c <= b + scope: the candidate
    # ticks are a short sequence, kept when they are snapshot times (a broadcast semi-join).
    low = F.greatest(F.col(_BUCKET) + 1, F.lit(ticks[0]))
    high = F.least(F.col(_BUCKET) + scope, F.lit(ticks[-1]))
    wanted = prepared.sparkSession.createDataFrame([(t,) for t in ticks], f"{_TICK} long")
    candidates = F.explode(F.when(low <= high, F.sequence(low, high)))
    paired = partials.withColumn(_TICK, candidates).join(F.broadcast(wanted), _TICK, "left_semi")
    # (d) Merge each feature's window, in the partitions the pairs were made in.
    merged = [_merge(view, f, i, bucket_us) for i, f in enumerate(view.features)]
    snapshots = paired.groupBy(*view.keys, _TICK).agg(*merged)
    feature_ts = F.timestamp_micros(F.col(_TICK) * bucket_us).alias("feature_ts")
    return snapshots.select(*view.keys, *[f.name for f in view.features], feature_ts)


def _micros(duration: timedelta) -> int:
    return int(duration.total_seconds()) * 1_000_000


def _bucket_micros(view: FeatureView, snapshot_us: Sequence[int]) -> int:
    """The longest duration dividing the cadence, every window, a day and every C.

    Snapshot times are boundaries counted from UTC midnight, so this is the cadence's
    day or hour in practice; a C off those boundaries only makes the buckets finer.
    """
    durations = [view.cadence_delta, timedelta(days=1), *(f.window_delta for f in view.features)]
    return math.gcd(*(_micros(d) for d in durations), *snapshot_us)


def _partials(view: FeatureView, feature: Feature, index: int) -> list[Column]:
    """Step 4b: the partial aggregates of one feature over the events of one bucket."""
    from pyspark.sql import functions as F

    kept = F.lit(True)
    if feature.filter:
        # A null predicate counts as false, as in SQL WHERE.
        kept = F.coalesce(
            _sql(view, f"feature {feature.name} filter", feature.filter), F.lit(False)
        )
    value = F.when(kept, _feature_input(view, feature))
    name = _partial_name(index)
    if feature.function == "count":
        # COUNT(input): the rows kept whose input is not null (a bare count's is 1).
        return [F.count(value).alias(name)]
    if feature.function == "count_distinct":
        # collect_set, like count_distinct, holds -0.0 as 0.0 and every NaN as one NaN,
        # so the union of a window's sets (array_distinct) counts what count_distinct does.
        return [F.collect_set(value).alias(name)]
    if feature.function == "sum":
        return [F.sum(value).alias(name)]
    if feature.function == "avg":
        # Spark's avg sums the values as doubles (whatever the input type) and counts them.
        return [F.sum(value.cast("double")).alias(name), F.count(value).alias(f"{name}_n")]
    if feature.function == "min":
        return [F.min(value).alias(name)]
    if feature.function == "max":
        return [F.max(value).alias(name)]
    # last: the value of the latest event; equal times resolved by the dedup key. The
    # bucket keeps its latest event's ordering too, so the window picks among buckets
    # exactly as a max_by over all its events would.
    tiebreak = [F.col(c).cast("string") for c in view.source.dedup_key]
    ordering = F.when(kept, F.struct(F.col(view.source.timestamp_column), *tiebreak))
    return [
        F.max_by(_feature_input(view, feature), ordering).alias(name),
        F.max(ordering).alias(f"{name}_at"),
    ]


def _merge(view: FeatureView, feature: Feature, index: int, bucket_us: int) -> Column:
    """Step 4d: one feature at C from the partials of the buckets in its window."""
    from pyspark.sql import functions as F

    in_window = F.col(_BUCKET) >= F.col(_TICK) - _micros(feature.window_delta) // bucket_us
    name = _partial_name(index)
    part = F.when(in_window, F.col(name))
    if feature.function == "count":
        result = F.coalesce(F.sum(part), F.lit(0))
    elif feature.function == "count_distinct":
        result = F.size(F.array_distinct(F.flatten(F.collect_list(part))))
    elif feature.function == "sum":
        result = F.sum(part)
    elif feature.function == "avg":
        values = F.sum(F.when(in_window, F.col(f"{name}_n")))
        result = F.when(values > 0, F.sum(part) / values)
    elif feature.function == "min":
        result = F.min(part)
    elif feature.function == "max":
        result = F.max(part)
    else:  # last
        result = F.max_by(part, F.when(in_window, F.col(f"{name}_at")))
    out_type = SPARK_TYPES[view.output_type(feature.name)]
    return result.cast(out_type).alias(feature.name)


def _partial_name(index: int) -> str:
    return f"__partial_{index}"


def _feature_input(view: FeatureView, feature: Feature) -> Column:
    from pyspark.sql import functions as F

    if feature.expression is not None:
        return _sql(view, f"feature {feature.name} expression", feature.expression)
    if feature.column is not None:
        return F.col(feature.column)
    return F.lit(1)


def _sql(view: FeatureView, what: str, expression: str) -> Column:
    from pyspark.sql import functions as F

    try:
        return F.expr(expression)
    except Exception as exc:
        raise DefinitionError(
            f"feature view {view.name}: {what}: invalid Spark SQL {expression!r} "
            f"({first_line(exc)})"
        ) from None


def _apply_expr(df: DataFrame, view: FeatureView, what: str, expression: str | None) -> DataFrame:
    if not expression:
        return df
    return df.where(_sql(view, what, expression))


def check_expressions(view: FeatureView, empty_events: DataFrame) -> None:
    """Analyse every expression of ``view`` against the source schema, without data.

    First the rule of :mod:`feature_jobs.expression_guard` on each expression's parse tree
    (no subquery, table or file reference, reflection or ``${...}``): analysing a subquery
    would already read the files it names. Then Spark resolves column names lazily;
    running the plan on an empty frame surfaces an unknown column or a type error at
    once, named after the view and field, and its analyzed plan is checked again. Last,
    each feature expression must yield its declared ``dtype``: the load-time check of
    function against type (``sum`` needs a number...) trusted that declaration.
    """
    check_definition_expressions(empty_events.sparkSession, view)
    probe_ts = datetime(2000, 1, 2, tzinfo=UTC)
    try:
        pruned = prune_events(view, empty_events, probe_ts - timedelta(days=400), probe_ts)
        prepared = prepare_events(view, pruned)
        probe = compute_snapshot(view, prepared, probe_ts)
        probe.schema  # noqa: B018 - forces analysis
    except DefinitionError:
        raise
    except Exception as exc:
        raise DefinitionError(
            f"feature view {view.name}: an expression does not fit source "
            f"{view.source.name}: {first_line(exc)}"
        ) from None
    check_planned_expressions(view, probe)
    _check_expression_types(view, prepared)


# Spark types an expression may yield for each declared dtype: the same widenings a
# source column may have (an int is a long, a float or a decimal a double).
_YIELDS = {
    "long": ("tinyint", "smallint", "int", "bigint"),
    "double": ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal"),
    "string": ("string",),
    "boolean": ("boolean",),
    "timestamp": ("timestamp",),
}


def _check_expression_types(view: FeatureView, prepared: DataFrame) -> None:
    for feature in view.features:
        if feature.expression is None or feature.dtype is None:
            continue
        expression = _sql(view, f"feature {feature.name} expression", feature.expression)
        found = prepared.select(expression).schema.fields[0].dataType.simpleString()
        if found.split("(")[0] not in _YIELDS[feature.dtype]:
            raise DefinitionError(
                f"feature view {view.name}: feature {feature.name}: expression "
                f"{feature.expression!r} yields {found} but dtype={feature.dtype!r} is "
                "declared; declare the type it yields, or CAST it in the expression"
            )

"""The one transformation path: source events -> a feature view's snapshot at time C.

Steps, each a DataFrame -> DataFrame function:
  1. prune to the event-time range the run needs, keeping null times so checks see them;
  2. deduplicate records by the source's key (the newest delivery wins);
  3. apply the source filter, the view's derived columns and the view filter;
  4. aggregate every feature over its own window ``[C - W, C)`` in a single group-by.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.definitions import Feature, FeatureView
from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.errors import DefinitionError, first_line
from feature_jobs.expression_guard import check_definition_expressions, check_planned_expressions

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


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

    An entity's scope at C is ``[C - longest window, C)``. Every event is paired with the
    snapshot times whose scope holds it (a join against the small, broadcast list of
    times), so a whole date range is aggregated in a single group-by instead of one Spark
    job per date. Columns: the join keys, every feature in declared order, ``feature_ts``.
    """
    from pyspark.sql import functions as F

    spark = prepared.sparkSession
    snapshot_times = spark.createDataFrame([(t,) for t in times], "feature_ts timestamp")
    event_us = F.unix_micros(F.col(view.source.timestamp_column))
    snapshot_us = F.unix_micros(F.col("feature_ts"))
    in_scope = (event_us < snapshot_us) & (event_us >= snapshot_us - _micros(view.longest_window))
    paired = prepared.join(F.broadcast(snapshot_times), in_scope, "inner")
    aggregates = [_aggregate(view, feature) for feature in view.features]
    snapshots = paired.groupBy(*view.keys, "feature_ts").agg(*aggregates)
    return snapshots.select(*view.keys, *[f.name for f in view.features], "feature_ts")


def _micros(duration: timedelta) -> int:
    return int(duration.total_seconds()) * 1_000_000


def _aggregate(view: FeatureView, feature: Feature) -> Column:
    from pyspark.sql import functions as F

    source = view.source
    event_us = F.unix_micros(F.col(source.timestamp_column))
    in_window = event_us >= F.unix_micros(F.col("feature_ts")) - _micros(feature.window_delta)
    where = f"feature {feature.name}"
    if feature.filter:
        # A null predicate counts as false, as in SQL WHERE.
        in_window = in_window & F.coalesce(
            _sql(view, f"{where} filter", feature.filter), F.lit(False)
        )
    value = _feature_input(view, feature)
    out_type = SPARK_TYPES[view.output_type(feature.name)]
    selected = F.when(in_window, value)
    if feature.function == "count":
        result = F.count(F.when(in_window, F.lit(1)))
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
    once, named after the view and field, and its analyzed plan is checked again.
    """
    from datetime import UTC

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

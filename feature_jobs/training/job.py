"""Build a training set: check the spine, join every view, write, fingerprint, manifest.

The pipeline, top to bottom:

1. resolve the views and check the spine's columns (its schema only);
2. pin the inputs: the Delta version of each view's offline table (event-time) or of
   the sync log and the versions it published from (as-known);
3. join each view in turn (:mod:`point_in_time` or :mod:`as_known`) and write to a hidden
   staging folder; the written rows' count, checksum and status counts are observed on
   the executors during that write (no second pass). With ``keep_spine_order`` a row id
   keeps the spine's row order. Meanwhile, beside it, one pass over the spine runs the
   row checks (nulls, naive times, fingerprint) and one counts the naive-join leakage;
4. only when all of that passed, rename output and manifest into place - a bad spine
   cancels the join and nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from feature_jobs.definitions import Registry
from feature_jobs.serving_rule import Status
from feature_jobs.settings import Settings
from feature_jobs.spark.scoped_conf import scoped_conf
from feature_jobs.spark.side_by_side import run_side_by_side
from feature_jobs.spark.stats_skipping import stats_skipping_off
from feature_jobs.training import manifest as manifest_io
from feature_jobs.training.as_known import as_known_join
from feature_jobs.training.hashing import qcol, row_hash, sum_of_hashes
from feature_jobs.training.inputs import PinnedInputs, pin_inputs
from feature_jobs.training.leakage import count_leakage, future_rows_condition, with_future_rows
from feature_jobs.training.ordering import in_spine_order
from feature_jobs.training.outcome import (
    TrainingSetResult,
    check_definitions,
    check_rebuilt_checksum,
    check_rebuilt_fingerprint,
    check_row_count,
    manifest_document,
    render_checksum,
)
from feature_jobs.training.paths import (
    check_output,
    manifest_path,
    publish,
    remove,
    staging_path,
)
from feature_jobs.training.point_in_time import event_time_join
from feature_jobs.training.prefilter import prefilter_pays
from feature_jobs.training.request import (
    TrainingSetRequest,
    ViewRequest,
    check_output_names,
    group_by_view,
    key_types,
    output_columns,
)
from feature_jobs.training.spine import Spine, SpineSource, check_spine_rows, open_spine

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Observation, SparkSession

ROW_ID = "__skewless_row_id"
ROW_HASH = "__skewless_row_hash"
#: Let adaptive execution hash-join a side whose shuffled partitions are all small (the
#: spine's, usually) instead of sorting both sides: the offline rows are then streamed
#: through, never sorted. A 1M-row spine's partitions are about 2 MB; a bigger one falls
#: back to the sort-merge join. (Both settings must allow it; 32 MB keeps each task's hash
#: table well inside a default 1 GB driver.)
HASH_JOIN_CONF = {
    "spark.sql.adaptive.maxShuffledHashJoinLocalMapThreshold": "32m",
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": "32m",
}


def build_training_set(
    spark: SparkSession,
    settings: Settings,
    registry: Registry,
    request: TrainingSetRequest,
    pins: manifest_io.Pins | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainingSetResult:
    """Build the training set of ``request``; with ``pins``, rebuild one from its manifest.

    Raises:
        TrainingSetError: a bad spine, an unknown feature, an existing output, a missing
            or vacuumed table version, or (rebuild) inputs that changed since the manifest.
    """
    # Every read here takes whole tables or partitions: Delta's per-query statistics
    # scan could not skip a file, and in a fresh JVM it costs seconds.
    with stats_skipping_off(spark), scoped_conf(spark, HASH_JOIN_CONF):
        return _build(spark, settings, registry, request, pins, progress)


def _build(
    spark: SparkSession,
    settings: Settings,
    registry: Registry,
    request: TrainingSetRequest,
    pins: manifest_io.Pins | None,
    progress: Callable[[str], None],
) -> TrainingSetResult:
    started = time.monotonic()
    views = group_by_view(registry, request.features)
    if pins is not None:
        check_definitions(views, pins)
    check_output(request.output, request.overwrite, settings, [request.spine], registry)
    request.output.parent.mkdir(parents=True, exist_ok=True)
    progress(f"reading spine {request.spine} ({request.spine_format})")
    source = open_spine(
        spark, request.spine, request.spine_format, request.timestamp_column, key_types(views)
    )
    check_output_names(source.columns, views)
    inputs = pin_inputs(spark, settings, request, views, pins)
    progress(f"inputs pinned: {inputs.describe()}")

    staged = staging_path(request.output)
    try:
        observation, joined = _join(spark, source, views, request, inputs)

        def write() -> None:
            joined.write.format(request.output_format).mode("errorifexists").save(str(staged))

        def check() -> tuple[Spine, dict[str, Any]]:
            spine = check_spine_rows(source)
            check_rebuilt_fingerprint(pins, spine)
            ts = source.timestamp_column
            return spine, count_leakage(spine.df, ts, inputs.latest_reads, spine.rows)

        progress(
            f"joining {len(views)} view(s) ({request.mode}) and writing {request.output}; "
            "checking the spine and counting what a naive join would leak beside it"
        )
        _, (spine, naive) = run_side_by_side(spark, write, check)
        progress(f"spine: {spine.rows} rows, {len(spine.columns)} columns, all checks passed")
        observed = observation.get
        rows = check_row_count(int(observed["rows"]), spine.rows)
        checksum = render_checksum(rows, observed["hash"])
        counts = {
            view.view.name: {s.value: int(observed[f"{i}:{s.value}"]) for s in Status}
            for i, view in enumerate(views)
        }
        leakage = with_future_rows(naive, int(observed["future"]))
        progress(leakage["summary"])
        check_rebuilt_checksum(pins, checksum)
        seconds = round(time.monotonic() - started, 3)
        document = manifest_document(
            request, spine, views, inputs, rows, checksum, counts, leakage, "spark"
        )
        document["seconds"] = seconds
        publish(staged, request.output, manifest_io.render(document))
    except BaseException:
        remove(staged)
        raise
    return TrainingSetResult(
        output=request.output,
        manifest=manifest_path(request.output),
        rows=rows,
        checksum=checksum,
        status_counts=counts,
        leakage=leakage,
        seconds=seconds,
    )


def _join(
    spark: SparkSession,
    source: SpineSource,
    views: list[ViewRequest],
    request: TrainingSetRequest,
    inputs: PinnedInputs,
) -> tuple[Observation, DataFrame]:
    """The output frame, observed: its row count, checksum and status counts."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    ts = source.timestamp_column
    df, spine_partitions = source.df, 0
    prefilter = prefilter_pays(request.spine, len(views))
    if request.keep_spine_order:
        # The row id keeps every spine row distinct (duplicates included) and in order.
        df = df.withColumn(ROW_ID, F.monotonically_increasing_id())
        spine_partitions = df.rdd.getNumPartitions()
    for view in views:
        name = view.view.name
        if request.mode == "event-time":
            offline = inputs.version_reader(name, inputs.offline[name][1])
            df = event_time_join(df, ts, view, offline, prefilter)
        else:

            def read(version: int, name: str = name) -> DataFrame:
                return inputs.version_reader(name, version)

            df = as_known_join(spark, df, ts, view, inputs.publications[name], read)
    if request.keep_spine_order:
        df = in_spine_order(df, ROW_ID, spine_partitions)
    columns = output_columns(source.columns, views)
    # The row hash is a column so the checksum's two sums share one hash per row.
    output = df.select(*[qcol(c) for c in columns], row_hash(columns).alias(ROW_HASH))
    # Observed while the rows are written: the checksum is of exactly what is written.
    observation = Observation("skewless_training_set")
    aggregates = [
        F.count(F.lit(1)).alias("rows"),
        sum_of_hashes(F.col(ROW_HASH)).alias("hash"),
        # The guarantee, counted on the written rows (0 by construction; see leakage.py).
        F.count_if(future_rows_condition(ts, views)).alias("future"),
    ]
    for i, view in enumerate(views):
        for status in Status:
            aggregates.append(
                F.count_if(qcol(view.status_column) == status.value).alias(f"{i}:{status.value}")
            )
    return observation, output.observe(observation, *aggregates).drop(ROW_HASH)

"""As-known mode: each spine row gets exactly what the online store served at its ts.

The sync log (``<delta_root>/_skewless/sync_log``, one row per publish, written by the
online store) says which snapshot of a view went live when, and from which Delta version
of the offline table it was published. A publication is live from its ``live_at`` until
the next publication's. Per view, in steps:

1. the view's publications, ordered by go-live time (a few dozen rows from the pinned
   sync-log version; collected, since the Delta versions to read must be known);
2. the as-of lookup: each spine row gets the publication live at its ts (``live_at <=
   ts``), or null before the first one (MISSING);
3. the published rows: per distinct Delta version, that version of the offline table
   (time travel) restricted to the snapshots published from it; equi-joined on
   ``(keys, publication)``;
4. the shared serving rule, with the age measured against the served snapshot.

A backfill or late-data correction written after a publication changes a newer Delta
version only, so it never reaches rows before its own publication.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.training.apply_rule import PRESENT, SNAPSHOT_TS, raw_feature, served_columns
from feature_jobs.training.asof import asof_lookup
from feature_jobs.training.point_in_time import join_condition, right_key_names, snapshot_rows
from feature_jobs.training.publications import (
    LoggedPublish,
    Publication,
    micros,
    order_publications,
)
from feature_jobs.training.request import ViewRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyspark.sql import DataFrame, SparkSession

_ASOF = "__skewless_asof"
_SEQ = "__skewless_publication"
_RIGHT_SEQ = "__skewless_right_publication"


def publications(sync_log: DataFrame, project: str, view: str) -> list[Publication]:
    """The view's publications in go-live order (ties: start time, then Delta version).

    Timestamps travel as epoch microseconds so no Python-side time zone can shift them.
    """
    from pyspark.sql import functions as F

    rows = (
        sync_log.where(
            (F.col("project") == project) & (F.col("view") == view) & F.col("live_at").isNotNull()
        )
        .select(
            F.unix_micros("feature_ts").alias("feature_us"),
            "snapshot_date",
            F.col("delta_version").cast("long").alias("delta_version"),
            F.unix_micros("live_at").alias("live_us"),
            F.coalesce(F.unix_micros("started_at"), F.lit(0)).alias("started_us"),
            "definition_version",
            "run_id",
        )
        .collect()
    )
    return order_publications(LoggedPublish(*row) for row in rows)


def as_known_join(
    spark: SparkSession,
    spine: DataFrame,
    ts_column: str,
    request: ViewRequest,
    pubs: list[Publication],
    read_version: Callable[[int], DataFrame],
) -> DataFrame:
    """Add one view's output columns to ``spine`` (as-known mode).

    Args:
        pubs: the view's publications from :func:`publications`.
        read_version: reads the view's offline table at a Delta version (pinned, checked).
    """
    from pyspark.sql import functions as F

    if not pubs:  # never published: every row is MISSING, as online
        return served_columns(_nothing_served(spine, request), request, ts_column)
    # Step 1: the publications as a tiny DataFrame (t = go-live time).
    table = spark.createDataFrame(
        [(micros(p.live_at), p.seq, micros(p.feature_ts), p.delta_version) for p in pubs],
        "live_us long, seq long, feature_us long, delta_version long",
    )
    instants = table.select(
        F.timestamp_micros("live_us").alias("t"),
        "seq",
        F.timestamp_micros("feature_us").alias("feature_ts"),
    )
    # Step 2: the publication live at each spine row's ts.
    located = asof_lookup(spine, ts_column, instants, "hour", _ASOF)
    located = located.select(
        "*", F.col(f"{_ASOF}.seq").alias(_SEQ), F.col(f"{_ASOF}.feature_ts").alias(SNAPSHOT_TS)
    ).drop(_ASOF)
    # Step 3: each publication's rows, read at the Delta version it was published from.
    right: DataFrame | None = None
    for version in sorted({p.delta_version for p in pubs}):
        published = [p for p in pubs if p.delta_version == version]
        rows = (
            read_version(version)
            .where(F.col("snapshot_date").isin([p.snapshot_date for p in published]))
            .join(
                F.broadcast(table.where(F.col("delta_version") == version)),
                F.unix_micros("feature_ts") == F.col("feature_us"),
            )
        )
        part = snapshot_rows(rows, request, F.col("seq").alias(_RIGHT_SEQ))
        right = part if right is None else right.unionByName(part)
    assert right is not None  # pubs is not empty
    joined = located.join(right, join_condition(request, _SEQ, _RIGHT_SEQ), "left")
    joined = joined.drop(*right_key_names(request), _RIGHT_SEQ, _SEQ)
    # Step 4: the serving rule, aged against the served snapshot's feature_ts.
    return served_columns(joined, request, ts_column)


def _nothing_served(spine: DataFrame, request: ViewRequest) -> DataFrame:
    from pyspark.sql import functions as F

    view = request.view
    raw = [
        F.lit(None).cast(SPARK_TYPES[view.output_type(f)]).alias(raw_feature(request, f))
        for f in request.features
    ]
    none = [F.lit(None).cast("timestamp").alias(SNAPSHOT_TS), F.lit(False).alias(PRESENT)]
    return spine.select("*", *raw, *none)

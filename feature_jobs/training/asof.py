"""The as-of lookup: for each spine row, the latest of a few known instants at or before it.

Snapshot times (event-time mode) and go-live times (as-known mode) are few; spine rows
are many. Rather than an as-of scan of the spine, the spine's timestamps are cut into
buckets (days or hours; few distinct values), and a tiny table is built once per bucket:

1. the latest instant at or before the bucket's start (a window over the instants and
   the bucket starts, sorted together; a few thousand rows in one partition), plus
2. the instants falling strictly inside the bucket, sorted (none when the instants are
   aligned on bucket boundaries, as daily and hourly snapshots are).

The spine is then equi-joined to that broadcast table on its bucket, and each row keeps
the last candidate at or before its own timestamp: no cross join of big tables, no
row-by-row scan, nothing collected to the driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_jobs.training.hashing import qcol

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_BUCKET = "__skewless_bucket"
_INSIDE_BUCKET = "__skewless_inside_bucket"


def asof_lookup(
    spine: DataFrame, ts_column: str, instants: DataFrame, unit: str, out: str
) -> DataFrame:
    """Add to ``spine`` a struct column ``out``: the latest row of ``instants`` with ``t <= ts``.

    Args:
        spine: the big side; ``ts_column`` is a UTC timestamp.
        ts_column: the spine's timestamp column.
        instants: a small DataFrame with a timestamp column ``t`` and any payload columns;
            ties on ``t`` are broken by the payload (the greatest wins).
        unit: ``"day"`` or ``"hour"``, the bucket width (any width is correct; one close
            to the spacing of ``instants`` keeps the lookup table small).
        out: name of the added column; null when no instant is at or before ``ts``.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    payload = [c for c in instants.columns if c != "t"]
    entry = F.struct(F.col("t"), *[qcol(c) for c in payload])
    entries = instants.select(entry.alias("e"))
    entry_type = entries.schema["e"].dataType
    bucket = F.date_trunc(unit, qcol(ts_column))
    buckets = spine.select(bucket.alias("time")).distinct()

    # Step 1: latest instant at or before each bucket start. Instants sort before bucket
    # starts at the same time (kind 0 < 1), so a snapshot at exactly 00:00 counts.
    timeline = buckets.select(
        "time", F.lit(1).alias("kind"), F.lit(None).cast(entry_type).alias("e")
    ).unionByName(entries.select(F.col("e.t").alias("time"), F.lit(0).alias("kind"), "e"))
    ordered = Window.orderBy("time", "kind", "e").rowsBetween(
        Window.unboundedPreceding, Window.currentRow
    )
    previous = (
        timeline.withColumn("prev", F.last("e", ignorenulls=True).over(ordered))
        .where(F.col("kind") == 1)
        .select(F.col("time").alias(_BUCKET), "prev")
    )

    # Step 2: instants strictly inside a bucket (only for instants off the boundaries).
    # A `when` rather than a filter: a filter would be pushed under the distinct and make
    # this branch scan the table a second time instead of reusing step 1's shuffle.
    inside_bucket = F.date_trunc(unit, F.col("e.t"))
    off_boundary = F.when(inside_bucket != F.col("e.t"), F.col("e"))
    inside = entries.groupBy(inside_bucket.alias(_INSIDE_BUCKET)).agg(
        F.array_sort(F.collect_list(off_boundary)).alias("inside")
    )
    # Null-safe, so no "bucket is not null" filter is inferred and pushed under the
    # distinct either (a bucket start is never null anyway).
    same_bucket = F.col(_BUCKET).eqNullSafe(F.col(_INSIDE_BUCKET))
    lookup = previous.join(inside, same_bucket, "left").select(
        _BUCKET,
        F.array_compact(
            F.when(F.col("inside").isNull(), F.array("prev")).otherwise(
                F.concat(F.array("prev"), F.col("inside"))
            )
        ).alias("candidates"),
    )

    # Step 3: equi-join on the bucket; keep the last candidate at or before the row's ts.
    ts = qcol(ts_column)
    joined = spine.withColumn(_BUCKET, bucket).join(F.broadcast(lookup), _BUCKET, "left")
    # The usual case, instants on bucket boundaries, leaves one candidate: it is tested
    # directly; only several need the (interpreted, slower) lambda filter.
    first = F.try_element_at("candidates", F.lit(1))
    chosen = F.when(F.size("candidates") <= 1, F.when(first["t"] <= ts, first)).otherwise(
        F.try_element_at(F.filter("candidates", lambda c: c["t"] <= ts), F.lit(-1))
    )
    return joined.withColumn(out, chosen).drop(_BUCKET, "candidates")

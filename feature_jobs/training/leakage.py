"""The leakage report: what a naive "latest value per entity" join would have done.

Joining each entity's most recent row regardless of time (what a last-row join without
a time bound does) fills a spine row with values computed *after* that row's timestamp
whenever the entity has a snapshot with ``feature_ts > ts``. Counting those rows shows
how much future information such a training set would have leaked into its labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from feature_jobs.training.hashing import qcol
from feature_jobs.training.request import ViewRequest

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def naive_join_leakage(
    spine: DataFrame, ts_column: str, reads: Sequence[tuple[ViewRequest, DataFrame]]
) -> dict[str, Any]:
    """Count spine rows a latest-value join would fill with values from after their ts.

    Args:
        spine: the checked spine.
        ts_column: its UTC timestamp column.
        reads: each requested view with the offline table version a naive join would use.

    Returns:
        ``{"rows": spine rows, "rows_leaking": rows leaking in at least one view,
        "per_view": {view: rows leaking}}``.
    """
    from pyspark.sql import functions as F

    keys = sorted({k for request, _ in reads for k in request.view.keys})
    df = spine.select(*[qcol(k) for k in keys], qcol(ts_column).alias("__ts"))
    flags = []
    for i, (request, offline) in enumerate(reads):
        renamed = [f"__leak_key_{i}_{j}" for j in range(len(request.view.keys))]
        latest = offline.groupBy(
            *[qcol(k).alias(n) for k, n in zip(request.view.keys, renamed, strict=True)]
        ).agg(F.max("feature_ts").alias(f"__latest_{i}"))
        condition = None
        for key, name in zip(request.view.keys, renamed, strict=True):
            equal = qcol(key) == F.col(name)
            condition = equal if condition is None else condition & equal
        df = df.join(latest, condition, "left").drop(*renamed)
        flags.append(F.coalesce(F.col(f"__latest_{i}") > F.col("__ts"), F.lit(False)))
    any_flag = flags[0]
    for flag in flags[1:]:
        any_flag = any_flag | flag
    aggregates = [F.count(F.lit(1)).alias("rows"), F.count_if(any_flag).alias("any")]
    aggregates += [F.count_if(flag).alias(f"view_{i}") for i, flag in enumerate(flags)]
    row = df.agg(*aggregates).first()
    assert row is not None  # a global aggregate always yields one row
    return {
        "rows": int(row["rows"]),
        "rows_leaking": int(row["any"]),
        "per_view": {
            request.view.name: int(row[f"view_{i}"]) for i, (request, _) in enumerate(reads)
        },
    }


def describe(report: dict[str, Any]) -> str:
    """One line for the console."""
    rows, leaking = report["rows"], report["rows_leaking"]
    share = 100.0 * leaking / rows if rows else 0.0
    per_view = ", ".join(f"{view} {n}" for view, n in report["per_view"].items())
    return (
        f"leakage check: a naive latest-value join would have filled {leaking} of {rows} rows "
        f"({share:.1f}%) with values computed after the row's timestamp ({per_view})"
    )

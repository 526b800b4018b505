"""The leakage report: what a naive "latest value per entity" join would have done.

Joining each entity's most recent row regardless of time (what a last-row join without
a time bound does) fills a spine row with values computed *after* that row's timestamp
whenever the entity has a snapshot with ``feature_ts > ts``. Counting those rows shows
how much future information such a training set would have leaked into its labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from feature_jobs.training.hashing import qcol
from feature_jobs.training.request import ViewRequest

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def with_leak_flags(
    df: DataFrame, ts_column: str, reads: Sequence[tuple[ViewRequest, DataFrame]]
) -> tuple[DataFrame, list[Column]]:
    """Attach to ``df`` each view's latest ``feature_ts`` per entity, as a naive join would.

    Args:
        df: rows holding the entity keys and ``ts_column`` (the spine, or the output).
        ts_column: the UTC timestamp column.
        reads: each view with the offline table version a naive join would read.

    Returns:
        The joined frame and, per view, a boolean column: the naive value is from after ts.
    """
    from pyspark.sql import functions as F

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
        flags.append(F.coalesce(F.col(f"__latest_{i}") > qcol(ts_column), F.lit(False)))
    return df, flags


def leak_aggregates(flags: Sequence[Column]) -> list[Column]:
    """Aggregates counting leaking rows: in any view (``leak_any``), per view (``leak_<i>``)."""
    from pyspark.sql import functions as F

    any_flag = F.lit(False)
    for flag in flags:
        any_flag = any_flag | flag
    return [F.count_if(any_flag).alias("leak_any")] + [
        F.count_if(flag).alias(f"leak_{i}") for i, flag in enumerate(flags)
    ]


def leak_report(
    counts: Mapping[str, int], rows: int, views: Sequence[ViewRequest]
) -> dict[str, Any]:
    """``{"rows", "rows_leaking" (in any view), "per_view": {view: rows}}`` from the counts.

    Args:
        counts: ``leak_any`` and ``leak_<i>`` per view, as :func:`leak_aggregates` names them.
    """
    return {
        "rows": rows,
        "rows_leaking": int(counts["leak_any"]),
        "per_view": {req.view.name: int(counts[f"leak_{i}"]) for i, req in enumerate(views)},
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


def count_leakage(
    spine: DataFrame, ts_column: str, reads: Sequence[tuple[ViewRequest, DataFrame]], rows: int
) -> dict[str, Any]:
    """The leakage report of a spine of ``rows`` rows, in one aggregate pass over it."""
    flagged, flags = with_leak_flags(spine, ts_column, reads)
    row = flagged.agg(*leak_aggregates(flags)).first()
    assert row is not None  # a global aggregate always yields one row
    return leak_report(row.asDict(), rows, [request for request, _ in reads])

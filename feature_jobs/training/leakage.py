"""The leakage report: what skewless's join guaranteed, beside what a naive join would do.

Two counts, one sentence:

* **rows using future values**, counted on the written rows themselves: a row whose
  ``<view>__feature_ts`` is after its timestamp. The point-in-time join makes it 0 by
  construction; it is counted anyway, while the rows are written, and a build that finds
  one is refused (nothing is published).
* **what a naive join would have done**: joining each entity's most recent row regardless
  of time (a last-row join without a time bound) fills a spine row with values computed
  *after* that row's timestamp whenever the entity has a snapshot with ``feature_ts > ts``.
  That count is the leakage skewless avoided, not leakage in the training set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from feature_jobs.errors import TrainingSetError
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
    """What a naive join would have leaked, from the counts (see :func:`with_future_rows`).

    Args:
        counts: ``leak_any`` and ``leak_<i>`` per view, as :func:`leak_aggregates` names them.
    """
    return {
        "rows": rows,
        "naive_join_rows_using_future_values": int(counts["leak_any"]),
        "naive_join_per_view": {
            req.view.name: int(counts[f"leak_{i}"]) for i, req in enumerate(views)
        },
    }


def with_future_rows(naive: Mapping[str, Any], future_rows: int) -> dict[str, Any]:
    """The manifest's leakage report: the written rows' own count first, then the naive one.

    Raises:
        TrainingSetError: a written row uses a value from after its timestamp (a defect of
            the join: the build is refused and nothing is published).
    """
    if future_rows:
        raise TrainingSetError(
            f"{future_rows} rows of the joined output use a feature value from after their "
            "timestamp; nothing was written. This is a skewless defect: please report it "
            "with the manifest of the spine and the views"
        )
    report = {"rows_using_future_values": 0, **naive}
    return {"summary": describe(report), **report}


def describe(report: Mapping[str, Any]) -> str:
    """The report as one sentence (also reads the reports of manifests before it changed)."""
    rows = int(report["rows"])
    naive = int(report.get("naive_join_rows_using_future_values", report.get("rows_leaking", 0)))
    per_view = report.get("naive_join_per_view", report.get("per_view", {}))
    future = report.get("rows_using_future_values")
    share = 100.0 * naive / rows if rows else 0.0
    views = ", ".join(f"{view} {n}" for view, n in per_view.items())
    guaranteed = (
        f"rows using future values: {future} of {rows}"
        if future is not None
        else f"{rows} rows joined point-in-time"
    )
    return (
        f"{guaranteed}; a naive latest-value join would have used values from after the "
        f"row's timestamp in {naive} ({share:.1f}%){f' ({views})' if views else ''}"
    )


def future_rows_condition(ts_column: str, views: Sequence[ViewRequest]) -> Column:
    """True for an output row holding any view's value from after ``ts_column``."""
    from pyspark.sql import functions as F

    condition = F.lit(False)
    for view in views:
        condition = condition | F.coalesce(
            qcol(view.feature_ts_column) > qcol(ts_column), F.lit(False)
        )
    return condition


def count_leakage(
    spine: DataFrame, ts_column: str, reads: Sequence[tuple[ViewRequest, DataFrame]], rows: int
) -> dict[str, Any]:
    """The leakage report of a spine of ``rows`` rows, in one aggregate pass over it."""
    flagged, flags = with_leak_flags(spine, ts_column, reads)
    row = flagged.agg(*leak_aggregates(flags)).first()
    assert row is not None  # a global aggregate always yields one row
    return leak_report(row.asDict(), rows, [request for request, _ in reads])

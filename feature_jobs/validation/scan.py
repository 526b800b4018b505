"""One Spark aggregation over a batch: every rule's violation count and the batch profile.

The profile (row count, null count, mean, min, max, and a histogram per numeric column)
feeds the batch checks and the daily profile table. Histograms use fixed bin edges
inherited from the view's first profile, so every day's histogram is comparable; the very
first profile takes its deciles as edges and needs one more small pass to fill its bins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from feature_jobs.validation.rules import Rule

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

DECILES = [i / 10 for i in range(1, 10)]


@dataclass(frozen=True)
class ColumnProfile:
    """Summary of one column of one batch."""

    column: str
    numeric: bool
    null_count: int
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    bin_edges: tuple[float, ...] | None = None
    bin_counts: tuple[int, ...] | None = None

    def null_rate(self, rows: int) -> float:
        """Fraction of null values (0 for an empty batch)."""
        return self.null_count / rows if rows else 0.0


@dataclass(frozen=True)
class Scan:
    """What the pass found: rows, violations per rule key, profile per column."""

    rows: int
    violations: Mapping[str, int]
    profiles: Mapping[str, ColumnProfile]


def scan(
    df: DataFrame,
    rules: Sequence[Rule],
    profile_columns: Mapping[str, bool],
    edges: Mapping[str, Sequence[float]],
) -> Scan:
    """Count rule violations and profile columns in one pass (a second only for new edges).

    Args:
        df: the batch (ideally cached: it is read once, or twice on a first profile).
        rules: the rules to count.
        profile_columns: column -> whether it is numeric (numeric ones get mean and bins).
        edges: bin edges per numeric column, from the baseline profile.
    """
    from pyspark.sql import functions as F

    aggs: list[Column] = [F.count(F.lit(1)).alias("rows")]
    aggs += [rule.violation_count().alias(f"r{i}") for i, rule in enumerate(rules)]
    for j, (column, numeric) in enumerate(profile_columns.items()):
        value = F.col(column).cast("double")
        aggs.append(F.sum(F.col(column).isNull().cast("long")).alias(f"n{j}"))
        if not numeric:
            continue
        aggs += [F.avg(value).alias(f"m{j}"), F.min(value).alias(f"lo{j}")]
        aggs.append(F.max(value).alias(f"hi{j}"))
        if column in edges:
            aggs += _bin_counts(value, edges[column], f"b{j}_")
        else:
            aggs.append(F.percentile_approx(value, DECILES, 1000).alias(f"q{j}"))
    row = df.agg(*aggs).first()
    assert row is not None  # a global aggregation always yields one row
    values = row.asDict()
    rows = int(values["rows"])
    violations = {rule.key: int(values[f"r{i}"] or 0) for i, rule in enumerate(rules)}
    profiles = {}
    new_edges: dict[str, tuple[float, ...]] = {}
    for j, (column, numeric) in enumerate(profile_columns.items()):
        profile = ColumnProfile(column, numeric, int(values[f"n{j}"] or 0))
        if numeric:
            column_edges = edges.get(column)
            counts = None
            if column_edges is not None:
                counts = tuple(int(values[f"b{j}_{k}"] or 0) for k in range(len(column_edges) + 1))
            else:
                column_edges = tuple(sorted(set(values[f"q{j}"] or ())))
                new_edges[column] = column_edges
            profile = ColumnProfile(
                column, True, profile.null_count, _f(values[f"m{j}"]), _f(values[f"lo{j}"]),
                _f(values[f"hi{j}"]), tuple(column_edges), counts,
            )  # fmt: skip
        profiles[column] = profile
    if new_edges:
        profiles.update(_fill_bins(df, {c: profiles[c] for c in new_edges}))
    return Scan(rows=rows, violations=violations, profiles=profiles)


def _bin_counts(value: Column, edges: Sequence[float], prefix: str) -> list[Column]:
    """Counts per bin ``(-inf, e1), [e1, e2), ..., [en, +inf)``; nulls fall in none."""
    from pyspark.sql import functions as F

    bounds: list[tuple[float | None, float | None]] = list(
        zip([None, *edges], [*edges, None], strict=True)
    )
    columns = []
    for k, (low, high) in enumerate(bounds):
        cond = value.isNotNull()
        if low is not None:
            cond = cond & (value >= F.lit(low))
        if high is not None:
            cond = cond & (value < F.lit(high))
        columns.append(F.sum(F.when(cond, 1).otherwise(0)).alias(f"{prefix}{k}"))
    return columns


def _fill_bins(df: DataFrame, profiles: Mapping[str, ColumnProfile]) -> dict[str, ColumnProfile]:
    from pyspark.sql import functions as F

    aggs: list[Column] = []
    for j, (column, profile) in enumerate(profiles.items()):
        aggs += _bin_counts(F.col(column).cast("double"), profile.bin_edges or (), f"b{j}_")
    row = df.agg(*aggs).first()
    assert row is not None
    filled = {}
    for j, (column, profile) in enumerate(profiles.items()):
        size = len(profile.bin_edges or ()) + 1
        counts = tuple(int(row[f"b{j}_{k}"] or 0) for k in range(size))
        filled[column] = ColumnProfile(
            column, True, profile.null_count, profile.mean, profile.min, profile.max,
            profile.bin_edges, counts,
        )  # fmt: skip
    return filled


def _f(value: Any) -> float | None:
    return None if value is None else float(value)

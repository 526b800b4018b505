"""One Spark aggregation over a batch: every rule's violation count and the batch profile.

The profile (row count, and per column: null count, mean, min, max and the 1st..99th
percentiles of numeric columns) feeds the batch checks and the daily profile table. The
percentiles describe the whole distribution, so the population stability index against
any earlier profile can be computed later from the two profiles alone; the pass therefore
does not depend on the baseline, and the gate reads the baseline while the pass runs.

:func:`scan` judges one batch; :func:`scan_snapshots` a whole range of snapshots in the
same single pass, grouped by snapshot time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feature_jobs.timeutil import epoch_micros
from feature_jobs.validation.rules import Rule

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

#: The percentiles a profile keeps: 1%, 2%, ..., 99%.
PERCENTILES = [i / 100 for i in range(1, 100)]
#: percentile_approx accuracy: relative rank error about 1/ACCURACY (exact on small batches).
ACCURACY = 10_000
#: The grouping column of a range scan: a snapshot's time in microseconds since the epoch.
SNAPSHOT_US = "__skewless_snapshot_us"


@dataclass(frozen=True)
class ColumnProfile:
    """Summary of one column of one batch."""

    column: str
    numeric: bool
    null_count: int
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    percentiles: tuple[float, ...] | None = None

    def null_rate(self, rows: int) -> float:
        """Fraction of null values (0 for an empty batch)."""
        return self.null_count / rows if rows else 0.0


@dataclass(frozen=True)
class Scan:
    """What the pass found: rows, violations per rule key, profile per column."""

    rows: int
    violations: Mapping[str, int]
    profiles: Mapping[str, ColumnProfile]


@dataclass(frozen=True)
class RangeScan:
    """What one pass over a range of snapshots found.

    Attributes:
        by_time: the scan of each snapshot time asked for (an empty one when it has no row).
        stray_rows: rows whose ``feature_ts`` is none of those times (or null).
    """

    by_time: Mapping[datetime, Scan]
    stray_rows: int


def scan(df: DataFrame, rules: Sequence[Rule], profile_columns: Mapping[str, bool]) -> Scan:
    """Count rule violations and profile columns of one batch in one Spark aggregation.

    Args:
        df: the batch (cache it: the gate reads it again only to sample failing rows).
        rules: the rules to count.
        profile_columns: column -> whether it is numeric (numeric ones get mean, min,
            max and percentiles; every column gets its null count).
    """
    flagged, aggregates = _plan(df, rules, profile_columns, within=())
    row = flagged.agg(*aggregates).first()
    assert row is not None  # a global aggregation always yields one row
    return _read(row.asDict(), rules, profile_columns)


def scan_snapshots(
    df: DataFrame,
    rules: Sequence[Rule],
    profile_columns: Mapping[str, bool],
    times: Sequence[datetime],
) -> RangeScan:
    """:func:`scan` of every snapshot of a range in one aggregation, grouped by time.

    Rules that name one snapshot are counted through their ``per_snapshot`` form and
    uniqueness is checked within each snapshot, so each snapshot's counts and profile are
    what :func:`scan` finds on that snapshot's rows alone.
    """
    from pyspark.sql import functions as F

    counted = [replace(r, valid=r.per_snapshot) if r.per_snapshot else r for r in rules]
    grouped = df.withColumn(SNAPSHOT_US, F.unix_micros(F.col("feature_ts")))
    flagged, aggregates = _plan(grouped, counted, profile_columns, within=(SNAPSHOT_US,))
    found = {
        row[SNAPSHOT_US]: row.asDict()
        for row in flagged.groupBy(SNAPSHOT_US).agg(*aggregates).collect()
    }
    wanted = {epoch_micros(ts): ts for ts in times}
    by_time = {
        ts: _read(found[us] if us in found else _nothing(rules), rules, profile_columns)
        for us, ts in wanted.items()
    }
    stray = sum(int(values["rows"]) for us, values in found.items() if us not in wanted)
    return RangeScan(by_time=by_time, stray_rows=stray)


def _plan(
    df: DataFrame,
    rules: Sequence[Rule],
    profile_columns: Mapping[str, bool],
    within: Sequence[str],
) -> tuple[DataFrame, list[Column]]:
    """The frame to aggregate (with window flags) and the aggregate expressions."""
    from pyspark.sql import functions as F

    # Rules over several rows (uniqueness) are flagged with a window first: cheaper than a
    # distinct count next to the percentiles, and it counts every duplicated row.
    flags = {i: f"__skewless_flag{i}" for i, rule in enumerate(rules) if rule.needs_window}
    if flags:
        df = df.select("*", *[rules[i].violation(within).alias(name) for i, name in flags.items()])
    aggs: list[Column] = [F.count(F.lit(1)).alias("rows")]
    aggs += [rule.violation_count(flags.get(i)).alias(f"r{i}") for i, rule in enumerate(rules)]
    for j, (column, numeric) in enumerate(profile_columns.items()):
        aggs.append(F.sum(F.col(column).isNull().cast("long")).alias(f"n{j}"))
        if numeric:
            value = F.col(column).cast("double")
            aggs += [
                F.avg(value).alias(f"m{j}"),
                F.min(value).alias(f"lo{j}"),
                F.max(value).alias(f"hi{j}"),
                F.percentile_approx(value, PERCENTILES, ACCURACY).alias(f"q{j}"),
            ]
    return df, aggs


def _nothing(rules: Sequence[Rule]) -> dict[str, Any]:
    """What the aggregation of :func:`scan` yields on a batch with no row."""
    values: dict[str, Any] = {"rows": 0}
    values.update({f"r{i}": int(rule.kind == "non_empty") for i, rule in enumerate(rules)})
    return values


def _read(
    values: Mapping[str, Any], rules: Sequence[Rule], profile_columns: Mapping[str, bool]
) -> Scan:
    violations = {rule.key: int(values.get(f"r{i}") or 0) for i, rule in enumerate(rules)}
    profiles = {}
    for j, (column, numeric) in enumerate(profile_columns.items()):
        nulls = int(values.get(f"n{j}") or 0)
        if not numeric:
            profiles[column] = ColumnProfile(column, False, nulls)
            continue
        quantiles = values.get(f"q{j}")
        profiles[column] = ColumnProfile(
            column, True, nulls, _f(values.get(f"m{j}")), _f(values.get(f"lo{j}")),
            _f(values.get(f"hi{j}")), tuple(float(q) for q in quantiles) if quantiles else None,
        )  # fmt: skip
    return Scan(rows=int(values["rows"]), violations=violations, profiles=profiles)


def _f(value: Any) -> float | None:
    return None if value is None else float(value)

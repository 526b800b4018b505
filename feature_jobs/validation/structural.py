"""The structural contract, derived from the definitions so it cannot drift from them.

For a feature view's snapshot: the declared column layout and types, non-null keys, unique
``(keys, feature_ts)``, one snapshot time that is not in the future, counts that are
never null or negative, and aggregates of a source column that stay within the range the
source's domain schema declares (``avg``/``min``/``max``/``last`` inside it, ``sum`` of a
non-negative column non-negative, ``last`` of a string inside its allowed set).

For a raw source: its declared columns and types, non-null event time and dedup key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from feature_jobs.definitions import FeatureView, Source
from feature_jobs.definitions.feature import COUNT_LIKE
from feature_jobs.offline.snapshots import snapshot_date_of
from feature_jobs.validation.rules import Rule, compare, in_range, isin, non_empty, not_null, unique

#: Logical types (and ``date``) as Spark type names, the way Pandera's PySpark engine reads them.
SPARK_TYPE_NAMES: dict[str, str] = {
    "string": "StringType",
    "long": "LongType",
    "double": "DoubleType",
    "boolean": "BooleanType",
    "timestamp": "TimestampType",
    "date": "DateType",
}
BOOKKEEPING = ("snapshot_date", "definition_version", "run_id", "materialized_at")


@dataclass(frozen=True)
class ColumnSpec:
    """A column of a contract: its logical type and whether it may be absent."""

    name: str
    dtype: str
    required: bool = True


@dataclass(frozen=True)
class SourceFacts:
    """What the source's domain schema declares about one column (for derived bounds)."""

    low: float | None = None
    high: float | None = None
    allowed: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Structure:
    """Columns (in order) and rules a batch must meet; ``strict`` forbids other columns."""

    columns: tuple[ColumnSpec, ...]
    rules: tuple[Rule, ...]
    strict: bool = True
    notes: tuple[str, ...] = field(default=())


def view_structure(
    view: FeatureView,
    *,
    feature_ts: datetime,
    snapshot_date: date,
    run_id: str | None,
    now: datetime,
    source_facts: Mapping[str, SourceFacts],
) -> Structure:
    """The structural contract of one snapshot of ``view`` taken at ``feature_ts``."""
    from pyspark.sql import functions as F

    columns = [ColumnSpec(key, dtype) for key, dtype in view.entity.join_keys.items()]
    columns += [ColumnSpec(f.name, view.output_type(f.name)) for f in view.features]
    columns.append(ColumnSpec("feature_ts", "timestamp"))
    columns += [
        ColumnSpec("snapshot_date", "date", required=False),
        ColumnSpec("definition_version", "string", required=False),
        ColumnSpec("run_id", "string", required=False),
        ColumnSpec("materialized_at", "timestamp", required=False),
    ]
    rules: list[Rule] = [not_null(key) for key in view.keys]
    rules += [
        not_null("feature_ts"),
        # A range scan groups rows by feature_ts and refuses rows of a time outside the
        # range, so inside a snapshot's group its time holds by construction.
        replace(
            compare("feature_ts", "==", feature_ts, f"equal_to({feature_ts.isoformat()})"),
            per_snapshot=lambda: F.lit(True),
        ),
        compare("feature_ts", "<=", now, f"not_in_future(now={now.isoformat()})"),
        replace(
            compare("snapshot_date", "==", snapshot_date, f"equal_to({snapshot_date})"),
            per_snapshot=lambda: F.col("snapshot_date") == snapshot_date_of("feature_ts"),
        ),
        compare("definition_version", "==", view.version, f"equal_to({view.version})"),
    ]
    if run_id is not None:
        rules.append(compare("run_id", "==", run_id, f"equal_to({run_id})"))
    for feature in view.features:
        rules += _feature_rules(view, feature.name, source_facts)
    rules += [unique([*view.keys, "feature_ts"]), non_empty()]
    return Structure(columns=tuple(columns), rules=tuple(rules), strict=True)


def _feature_rules(
    view: FeatureView, name: str, source_facts: Mapping[str, SourceFacts]
) -> list[Rule]:
    feature = view.feature(name)
    if feature.function in COUNT_LIKE:
        # Count-like features are 0, never null, when the window holds no event.
        return [not_null(name), compare(name, ">=", 0, "greater_than_or_equal_to(0)")]
    # Only a plain source column has declared bounds; derived columns and expressions
    # are the domain schema's business.
    facts = source_facts.get(feature.column or "") if feature.expression is None else None
    if facts is None or feature.column not in view.source.schema:
        return []
    if feature.function in ("avg", "min", "max", "last"):
        if facts.low is not None and facts.high is not None:
            return [in_range(name, facts.low, facts.high)]
        if facts.low is not None:
            return [compare(name, ">=", facts.low, f"greater_than_or_equal_to({facts.low})")]
        if facts.high is not None:
            return [compare(name, "<=", facts.high, f"less_than_or_equal_to({facts.high})")]
        if feature.function == "last" and facts.allowed is not None:
            return [isin(name, facts.allowed)]
    if feature.function == "sum" and facts.low is not None and facts.low >= 0:
        return [compare(name, ">=", 0, "greater_than_or_equal_to(0)")]
    return []


def source_structure(source: Source) -> Structure:
    """The structural contract of a raw source's rows (other columns are allowed)."""
    columns = tuple(ColumnSpec(name, dtype) for name, dtype in source.schema.items())
    needed = dict.fromkeys([source.timestamp_column, *source.dedup_key])
    # Duplicated dedup keys are legal here: redeliveries are collapsed by the engine.
    rules = [not_null(column) for column in needed]
    return Structure(columns=columns, rules=tuple(rules), strict=False)

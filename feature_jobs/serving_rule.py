"""The single rule deciding what a read of a snapshot yields, online and offline alike.

Given how old the snapshot is and whether the entity is in it, :func:`decide` returns a
status (PRESENT, MISSING, STALE) and what the values become (the snapshot's values, the
features' defaults, or nothing). The online store calls it per read. The training-set
engines evaluate the very same function on each of its eight input combinations
(:func:`truth_table`) and compile that table: into a Spark expression
(:func:`spark_outcome`) and into SQL for the local engine (:func:`sql_outcome`), so no
side can diverge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import Column


class Status(StrEnum):
    """How a value was obtained."""

    PRESENT = "PRESENT"  # the entity is in a fresh snapshot
    MISSING = "MISSING"  # no snapshot yet, or the entity is absent from it: defaults
    STALE = "STALE"  # the snapshot is older than max_age; see on_stale


class Fill(StrEnum):
    """What the feature values of a read become."""

    VALUES = "VALUES"  # the snapshot's values (a null value still takes its default)
    DEFAULTS = "DEFAULTS"  # every feature takes its default
    NULLS = "NULLS"  # nothing is served (on_stale="reject")


@dataclass(frozen=True)
class Outcome:
    """Result of the rule for one read."""

    status: Status
    fill: Fill


def is_stale(age: timedelta, max_age: timedelta) -> bool:
    """A snapshot is stale when strictly older than ``max_age`` (equal is still fresh)."""
    return age > max_age


def decide(has_snapshot: bool, stale: bool, entity_present: bool, on_stale: str) -> Outcome:
    """The rule. ``has_snapshot`` is False before a view's first snapshot."""
    if not has_snapshot:
        return Outcome(Status.MISSING, Fill.DEFAULTS)
    if stale:
        if on_stale == "reject":
            return Outcome(Status.STALE, Fill.NULLS)
        if on_stale == "serve" and entity_present:
            return Outcome(Status.STALE, Fill.VALUES)
        return Outcome(Status.STALE, Fill.DEFAULTS)
    if entity_present:
        return Outcome(Status.PRESENT, Fill.VALUES)
    return Outcome(Status.MISSING, Fill.DEFAULTS)


def fill_value(fill: Fill, value: Any, default: Any) -> Any:
    """One feature's served value under ``fill``."""
    if fill is Fill.NULLS:
        return None
    if fill is Fill.DEFAULTS:
        return default
    return default if value is None else value


@dataclass(frozen=True)
class RuleRow:
    """One line of the rule's truth table: its inputs and :func:`decide`'s outcome."""

    has_snapshot: bool
    stale: bool
    entity_present: bool
    outcome: Outcome


def truth_table(on_stale: str) -> tuple[RuleRow, ...]:
    """:func:`decide` on all eight input combinations: what every engine compiles."""
    return tuple(
        RuleRow(snap, old, present, decide(snap, old, present, on_stale))
        for snap in (False, True)
        for old in (False, True)
        for present in (False, True)
    )


def spark_outcome(
    has_snapshot: Column, stale: Column, entity_present: Column, on_stale: str
) -> tuple[Column, Column]:
    """:func:`decide` as two Spark columns (status, fill), built from its truth table."""
    from pyspark.sql import functions as F

    status = F.lit(None).cast("string")
    fill = F.lit(None).cast("string")
    for row in truth_table(on_stale):
        condition = (
            (has_snapshot == F.lit(row.has_snapshot))
            & (stale == F.lit(row.stale))
            & (entity_present == F.lit(row.entity_present))
        )
        status = F.when(condition, F.lit(row.outcome.status.value)).otherwise(status)
        fill = F.when(condition, F.lit(row.outcome.fill.value)).otherwise(fill)
    return status, fill


def sql_outcome(
    has_snapshot: str, stale: str, entity_present: str, on_stale: str
) -> tuple[str, str]:
    """:func:`decide` as two SQL expressions (status, fill), built from its truth table.

    The inputs are SQL boolean expressions that are never null.
    """

    def case(pick: Callable[[Outcome], str]) -> str:
        branches = " ".join(
            f"WHEN ({has_snapshot}) = {_sql_bool(row.has_snapshot)} "
            f"AND ({stale}) = {_sql_bool(row.stale)} "
            f"AND ({entity_present}) = {_sql_bool(row.entity_present)} "
            f"THEN '{pick(row.outcome)}'"
            for row in truth_table(on_stale)
        )
        return f"CASE {branches} END"

    return case(lambda o: o.status.value), case(lambda o: o.fill.value)


def spark_fill_value(fill: Column, value: Column, default: Any, spark_type: str) -> Column:
    """:func:`fill_value` as a Spark column."""
    from pyspark.sql import functions as F

    default_col = F.lit(default).cast(spark_type)
    return (
        F.when(fill == F.lit(Fill.NULLS.value), F.lit(None).cast(spark_type))
        .when(fill == F.lit(Fill.DEFAULTS.value), default_col)
        .otherwise(F.coalesce(value.cast(spark_type), default_col))
    )


def sql_fill_value(fill: str, value: str, default: str, sql_type: str) -> str:
    """:func:`fill_value` as SQL; ``default`` is an expression (a bound parameter)."""
    typed_default = f"CAST({default} AS {sql_type})"
    return (
        f"CASE WHEN ({fill}) = '{Fill.NULLS.value}' THEN CAST(NULL AS {sql_type}) "
        f"WHEN ({fill}) = '{Fill.DEFAULTS.value}' THEN {typed_default} "
        f"ELSE coalesce(CAST({value} AS {sql_type}), {typed_default}) END"
    )


def _sql_bool(value: bool) -> str:
    return "TRUE" if value else "FALSE"

"""The single rule deciding what a read of a snapshot yields, online and offline alike.

Given how old the snapshot is and whether the entity is in it, :func:`decide` returns a
status (PRESENT, MISSING, STALE) and what the values become (the snapshot's values, the
features' defaults, or nothing). The online store calls it per read; the training-set job
compiles the very same function into a Spark expression with :func:`spark_outcome`, by
evaluating it on each of its few input combinations, so the two sides cannot diverge.
"""

from __future__ import annotations

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


def spark_outcome(
    has_snapshot: Column, stale: Column, entity_present: Column, on_stale: str
) -> tuple[Column, Column]:
    """:func:`decide` as two Spark columns (status, fill), built from its truth table."""
    from pyspark.sql import functions as F

    status = F.lit(None).cast("string")
    fill = F.lit(None).cast("string")
    for snap in (False, True):
        for old in (False, True):
            for present in (False, True):
                outcome = decide(snap, old, present, on_stale)
                condition = (
                    (has_snapshot == F.lit(snap))
                    & (stale == F.lit(old))
                    & (entity_present == F.lit(present))
                )
                status = F.when(condition, F.lit(outcome.status.value)).otherwise(status)
                fill = F.when(condition, F.lit(outcome.fill.value)).otherwise(fill)
    return status, fill


def spark_fill_value(fill: Column, value: Column, default: Any, spark_type: str) -> Column:
    """:func:`fill_value` as a Spark column."""
    from pyspark.sql import functions as F

    default_col = F.lit(default).cast(spark_type)
    return (
        F.when(fill == F.lit(Fill.NULLS.value), F.lit(None).cast(spark_type))
        .when(fill == F.lit(Fill.DEFAULTS.value), default_col)
        .otherwise(F.coalesce(value.cast(spark_type), default_col))
    )

"""Feature: one windowed aggregation over a source's rows, with its default value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from feature_jobs.definitions.types import (
    RESERVED_COLUMNS,
    SPARK_TYPES,
    check_name,
    check_type,
    parse_duration,
    value_matches,
)
from feature_jobs.errors import DefinitionError

Aggregation = Literal["count", "sum", "avg", "min", "max", "count_distinct", "last"]
AGGREGATIONS: tuple[str, ...] = ("count", "sum", "avg", "min", "max", "count_distinct", "last")

#: Aggregations whose empty window is a number (0), not an absence.
COUNT_LIKE = frozenset({"count", "count_distinct"})

#: The input types each aggregation accepts (every input type is declared: a source or
#: derived column's, or an expression's ``dtype``). Every logical type is hashable and
#: ordered in Spark, so only the arithmetic aggregations refuse some: Spark SQL's sum of
#: a string or a timestamp would cast it implicitly, and of a boolean fails at run time.
ACCEPTED_INPUT_TYPES: dict[str, tuple[str, ...]] = {
    "count": tuple(SPARK_TYPES),
    "count_distinct": tuple(SPARK_TYPES),
    "last": tuple(SPARK_TYPES),
    "min": tuple(SPARK_TYPES),
    "max": tuple(SPARK_TYPES),
    "sum": ("long", "double"),
    "avg": ("long", "double"),
}

#: How to turn a non-numeric input into a number, for the refusal's fix.
_AS_NUMBER = {
    "string": ("CAST({} AS DOUBLE)", "double"),
    "boolean": ("CAST({} AS LONG)", "long"),
    "timestamp": ("unix_seconds({})", "long"),
}

#: The longest window a feature may declare; longer ones belong in a batch job of their own.
MAX_WINDOW = timedelta(days=366)


@dataclass(frozen=True, kw_only=True)
class DerivedColumn:
    """A row-level column computed from source columns by a Spark SQL expression."""

    name: str
    expression: str
    dtype: str

    def __post_init__(self) -> None:
        check_name("derived column", self.name)
        check_type(self.dtype, f"derived column {self.name}")
        if not self.expression.strip():
            raise DefinitionError(f"derived column {self.name}: expression is empty")


@dataclass(frozen=True, kw_only=True)
class Feature:
    """A windowed aggregation. The window of a snapshot at C covers ``[C - window, C)``.

    Args:
        name: feature name, unique within its view.
        function: count, sum, avg, min, max, count_distinct or last (value of the
            latest event in the window; ties broken by the dedup key). ``count`` without
            an input counts the rows in the window; with ``column=`` or ``expression=``
            it counts the rows whose value is not null, as SQL's ``COUNT(column)``.
            sum and avg need a long or double input; the others take any type.
        window: "1d", "7d", "6h"... or a timedelta.
        column: source or derived column to aggregate (``count`` needs none).
        expression: a row-level Spark SQL expression to aggregate instead of a column;
            then ``dtype`` must be declared.
        filter: row-level Spark SQL predicate; only matching rows enter this feature.
        default: value served when the entity is missing, stale (with on_stale="default")
            or has no event in this feature's window. Count-like features default to 0.
        dtype: the input type, required with ``expression`` (a materialization checks,
            before reading data, that the expression yields it); inferred otherwise.
    """

    name: str
    function: Aggregation
    window: timedelta | str
    column: str | None = None
    expression: str | None = None
    filter: str | None = None
    default: Any = None
    dtype: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        where = f"feature {self.name}"
        check_name("feature", self.name)
        if self.name in RESERVED_COLUMNS:
            raise DefinitionError(f"{where}: the name is reserved by skewless; rename it")
        if self.function not in AGGREGATIONS:
            raise DefinitionError(
                f"{where}: function {self.function!r} is unknown; use one of "
                f"{', '.join(AGGREGATIONS)}"
            )
        window = parse_duration(self.window, f"{where}: window")
        if window > MAX_WINDOW:
            raise DefinitionError(f"{where}: window {self.window!r} is longer than 366d")
        if window % timedelta(hours=1):
            raise DefinitionError(f"{where}: window {self.window!r} must be whole hours")
        object.__setattr__(self, "window", window)
        if self.column is not None and self.expression is not None:
            raise DefinitionError(f"{where}: give column= or expression=, not both")
        if self.function != "count" and self.column is None and self.expression is None:
            raise DefinitionError(
                f"{where}: {self.function} needs column= or expression= to aggregate"
            )
        if self.expression is not None and self.dtype is None:
            raise DefinitionError(
                f"{where}: expression= needs dtype= (one of string, long, double, boolean)"
            )
        if self.dtype is not None:
            check_type(self.dtype, f"{where}: dtype")

    @property
    def window_delta(self) -> timedelta:
        """The window as a timedelta (normalized in ``__post_init__``)."""
        assert isinstance(self.window, timedelta)  # normalized in __post_init__
        return self.window

    @property
    def input_named(self) -> bool:
        """True when the feature aggregates a column or an expression (not bare rows)."""
        return self.column is not None or self.expression is not None

    def check_input_type(self, input_type: str | None, where: str) -> None:
        """Raise when the function cannot aggregate an input of ``input_type``."""
        if input_type is None or input_type in ACCEPTED_INPUT_TYPES[self.function]:
            return
        accepted = " or ".join(ACCEPTED_INPUT_TYPES[self.function])
        if self.column is not None:
            what, text = f"column {self.column!r}", self.column
        else:
            what, text = f"expression {self.expression!r}", f"({self.expression})"
        template, as_type = _AS_NUMBER[input_type]
        raise DefinitionError(
            f"{where}: feature {self.name}: {self.function} of {what} of type {input_type} "
            f"is not defined ({self.function} needs {accepted}); aggregate a numeric column, "
            f"or expression={template.format(text)!r} with dtype={as_type!r}"
        )

    def output_type(self, input_type: str | None) -> str:
        """The logical type of the aggregated value, given the aggregated input's type."""
        if self.function in COUNT_LIKE:
            return "long"
        if self.function == "avg":
            return "double"
        assert input_type is not None  # every non-count function has an input
        return input_type

    def effective_default(self) -> Any:
        """The declared default, or 0 for count-like aggregations without one."""
        if self.default is None and self.function in COUNT_LIKE:
            return 0
        return self.default

    def check_default(self, output_type: str, where: str) -> None:
        """Raise when the declared default does not fit the feature's output type."""
        if not value_matches(output_type, self.default):
            raise DefinitionError(
                f"{where}: feature {self.name}: default {self.default!r} is not a "
                f"{output_type} value; give a default of type {output_type} or None"
            )

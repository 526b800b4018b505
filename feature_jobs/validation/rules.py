"""Rules: the row-level conditions a batch must meet, as Spark predicates.

Every structural check (derived from the definitions) and every hand-written domain check
(``schemas/``) becomes a :class:`Rule`. A rule knows how to flag the rows that break it
(``violation``) and how to count them inside one aggregation (``violation_count``), so the
gate evaluates all rules in a single Spark job and can name the failing rows afterwards.

Null handling follows Pandera: a comparison on a null value passes (nullability is its own
``not_null`` rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pandera.api.checks import Check
    from pyspark.sql import Column

RuleKind = Literal["row", "unique", "non_empty"]


@dataclass(frozen=True)
class Rule:
    """One condition on the rows of a batch.

    Attributes:
        name: shown in reports, Pandera style: ``greater_than_or_equal_to(0)``, ``not_null``.
        column: the column it is about; None for rules on whole rows or the batch.
        kind: ``row`` (a predicate per row), ``unique`` (no two rows share ``reads``),
            ``non_empty`` (the batch has rows).
        valid: for ``row`` rules, builds the predicate that holds for a good row.
        reads: the columns the rule needs; it is skipped when one is absent.
        typed: the rule compares values, so it is also skipped when a column it reads
            has the wrong type (the type check reports that column instead).
        origin: ``structural`` (derived from definitions) or ``domain`` (hand-written).
        per_snapshot: for a rule that names one snapshot (its time, its date), the same
            condition stated against each row's own ``feature_ts``, so that a frame holding
            a whole range of snapshots is checked in one pass (see :mod:`.scan`).
    """

    name: str
    column: str | None
    kind: RuleKind = "row"
    valid: Callable[[], Column] | None = None
    reads: tuple[str, ...] = ()
    typed: bool = True
    origin: str = "structural"
    per_snapshot: Callable[[], Column] | None = None

    @property
    def key(self) -> str:
        """Unique id of the rule within a contract (column plus name)."""
        return f"{self.column or '*'}::{self.name}"

    @property
    def label(self) -> str:
        """``name[column]`` as alerts and error lines print it."""
        return f"{self.name}[{self.column}]" if self.column else self.name

    def violation(self, within: Sequence[str] = ()) -> Column:
        """A boolean column, true on each row that breaks the rule (may be a window).

        Args:
            within: columns splitting the frame into batches judged separately (a range
                of snapshots): uniqueness is then checked inside each batch.
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        if self.kind == "unique":
            group = Window.partitionBy(*[F.col(c) for c in (*within, *self.reads)])
            return F.count(F.lit(1)).over(group) > 1
        if self.kind == "non_empty":
            return F.lit(False)
        assert self.valid is not None  # every row rule has a predicate
        return F.coalesce(~self.valid(), F.lit(False))

    @property
    def needs_window(self) -> bool:
        """Its violation looks at other rows (a window), so it is flagged before counting."""
        return self.kind == "unique"

    def violation_count(self, flag: str | None = None) -> Column:
        """An aggregate expression: 0 when the rule holds, the failing rows otherwise.

        Args:
            flag: for rules that :attr:`needs_window`, the column already holding
                :meth:`violation` (an aggregate cannot contain a window).
        """
        from pyspark.sql import functions as F

        if self.kind == "non_empty":
            return F.when(F.count(F.lit(1)) == 0, F.lit(1)).otherwise(F.lit(0))
        flagged = F.col(flag) if flag is not None else self.violation()
        return F.sum(F.when(flagged, F.lit(1)).otherwise(F.lit(0)))


# -- rule builders ---------------------------------------------------------------------


def not_null(column: str, origin: str = "structural") -> Rule:
    """The column holds a value on every row."""
    from pyspark.sql import functions as F

    return Rule(
        "not_null", column, valid=lambda: F.col(column).isNotNull(), reads=(column,),
        typed=False, origin=origin,
    )  # fmt: skip


def unique(columns: Sequence[str]) -> Rule:
    """No two rows share the values of ``columns``."""
    return Rule(
        f"unique({', '.join(columns)})", None, kind="unique", reads=tuple(columns), typed=False
    )


def non_empty() -> Rule:
    """The batch has at least one row."""
    return Rule("non_empty", None, kind="non_empty", typed=False)


def compare(column: str, op: str, value: Any, name: str, origin: str = "structural") -> Rule:
    """``column <op> value`` with op one of ``>= > <= < == !=``."""
    from pyspark.sql import functions as F

    ops: dict[str, Callable[[Column, Column], Column]] = {
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    fn = ops[op]
    return Rule(
        name, column, valid=lambda: fn(F.col(column), F.lit(value)), reads=(column,),
        origin=origin,
    )  # fmt: skip


def in_range(
    column: str, low: Any, high: Any, *, include_low: bool = True, include_high: bool = True,
    origin: str = "structural",
) -> Rule:  # fmt: skip
    """``low <= column <= high`` (bounds exclusive when asked)."""
    from pyspark.sql import functions as F

    def valid() -> Column:
        value = F.col(column)
        above = value >= F.lit(low) if include_low else value > F.lit(low)
        below = value <= F.lit(high) if include_high else value < F.lit(high)
        return above & below

    return Rule(f"in_range({low}, {high})", column, valid=valid, reads=(column,), origin=origin)


def isin(column: str, values: Iterable[Any], origin: str = "structural") -> Rule:
    """The column's value is one of ``values``."""
    from pyspark.sql import functions as F

    allowed = sorted(values)
    return Rule(
        f"isin({allowed})", column, valid=lambda: F.col(column).isin(allowed), reads=(column,),
        origin=origin,
    )  # fmt: skip


def sql(name: str, condition: str, reads: Sequence[str], column: str | None = None) -> Rule:
    """A hand-written Spark SQL condition that holds for a good row (domain rules)."""
    from pyspark.sql import functions as F

    return Rule(name, column, valid=lambda: F.expr(condition), reads=tuple(reads), origin="domain")


# -- Pandera built-in checks as rules ---------------------------------------------------


def _pattern(value: Any) -> str:
    return value.pattern if isinstance(value, re.Pattern) else str(value)


def from_pandera_check(check: Check, column: str, origin: str = "domain") -> Rule | None:
    """Translate a Pandera built-in column check into a rule; None if it has no twin.

    The rule keeps Pandera's own name (``check.error``) so reports read the same as a
    plain Pandera validation would. Checks without a translation stay Pandera checks.
    """
    from pyspark.sql import functions as F

    stats: dict[str, Any] = dict(check.statistics or {})
    name = check.error or check.name or "check"
    c = F.col
    builders: dict[str, Callable[[], Callable[[], Column]]] = {
        "equal_to": lambda: lambda: c(column) == F.lit(stats["value"]),
        "not_equal_to": lambda: lambda: c(column) != F.lit(stats["value"]),
        "greater_than": lambda: lambda: c(column) > F.lit(stats["min_value"]),
        "greater_than_or_equal_to": lambda: lambda: c(column) >= F.lit(stats["min_value"]),
        "less_than": lambda: lambda: c(column) < F.lit(stats["max_value"]),
        "less_than_or_equal_to": lambda: lambda: c(column) <= F.lit(stats["max_value"]),
        "isin": lambda: lambda: c(column).isin(list(stats["allowed_values"])),
        "notin": lambda: lambda: ~c(column).isin(list(stats["forbidden_values"])),
        "str_matches": lambda: lambda: c(column).rlike(_anchored(_pattern(stats["pattern"]))),
        "str_contains": lambda: lambda: c(column).rlike(_pattern(stats["pattern"])),
        "str_startswith": lambda: lambda: c(column).startswith(stats["string"]),
        "str_endswith": lambda: lambda: c(column).endswith(stats["string"]),
    }
    if check.name == "in_range":
        rule = in_range(
            column,
            stats["min_value"],
            stats["max_value"],
            include_low=stats.get("include_min", True),
            include_high=stats.get("include_max", True),
            origin=origin,
        )
        return replace(rule, name=name)
    if check.name == "str_length":
        return replace(_str_length(column, stats, origin), name=name)
    builder = builders.get(check.name or "")
    if builder is None:
        return None
    return Rule(name, column, valid=builder(), reads=(column,), origin=origin)


def _str_length(column: str, stats: dict[str, Any], origin: str) -> Rule:
    from pyspark.sql import functions as F

    def valid() -> Column:
        length = F.length(F.col(column))
        if stats.get("exact_value") is not None:
            return length == stats["exact_value"]
        cond = F.lit(True)
        if stats.get("min_value") is not None:
            cond = cond & (length >= stats["min_value"])
        if stats.get("max_value") is not None:
            cond = cond & (length <= stats["max_value"])
        return cond

    return Rule("str_length", column, valid=valid, reads=(column,), origin=origin)


def _anchored(pattern: str) -> str:
    # Pandera's str_matches matches at the start of the string, like re.match.
    return pattern if pattern.startswith("^") else f"^{pattern}"


def bounds_of(checks: Iterable[Check]) -> tuple[float | None, float | None]:
    """The numeric range ``[low, high]`` that Pandera range checks declare (None: open)."""
    low: float | None = None
    high: float | None = None
    for check in checks:
        stats = dict(check.statistics or {})
        if check.name == "in_range":
            low, high = _max(low, stats["min_value"]), _min(high, stats["max_value"])
        elif check.name in ("greater_than", "greater_than_or_equal_to"):
            low = _max(low, stats["min_value"])
        elif check.name in ("less_than", "less_than_or_equal_to"):
            high = _min(high, stats["max_value"])
    return low, high


def allowed_values_of(checks: Iterable[Check]) -> tuple[Any, ...] | None:
    """The value set an ``isin`` check declares, if any."""
    for check in checks:
        if check.name == "isin":
            return tuple(dict(check.statistics or {})["allowed_values"])
    return None


def _max(a: float | None, b: Any) -> float | None:
    if not isinstance(b, (int, float)) or isinstance(b, bool):
        return a
    return float(b) if a is None else max(a, float(b))


def _min(a: float | None, b: Any) -> float | None:
    if not isinstance(b, (int, float)) or isinstance(b, bool):
        return a
    return float(b) if a is None else min(a, float(b))


def literal_text(value: Any) -> str:
    """How a literal reads in a rule name (timestamps in ISO UTC)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)

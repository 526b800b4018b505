"""Value types a definition may declare, and the checks that tie Python values to them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from feature_jobs.errors import DefinitionError

#: Logical types, with the Spark SQL type each one maps to.
SPARK_TYPES: dict[str, str] = {
    "string": "string",
    "long": "bigint",
    "double": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
}

#: Names safe as Delta folders, Spark identifiers and Redis key parts.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

#: Columns skewless adds to every snapshot row; feature and key names may not use them.
RESERVED_COLUMNS = frozenset(
    {"feature_ts", "snapshot_date", "definition_version", "run_id", "materialized_at"}
)

_DURATION = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def check_name(kind: str, name: str, where: str = "") -> None:
    """Raise unless ``name`` is a lowercase identifier usable in paths, SQL and keys."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        prefix = f"{where}: " if where else ""
        raise DefinitionError(
            f"{prefix}{kind} name {name!r} is invalid: use lowercase letters, digits and '_', "
            "starting with a letter (at most 63 characters)"
        )


def check_type(dtype: str, where: str) -> None:
    """Raise unless ``dtype`` is one of the logical types."""
    if dtype not in SPARK_TYPES:
        raise DefinitionError(
            f"{where}: unknown type {dtype!r}; use one of {', '.join(sorted(SPARK_TYPES))}"
        )


def parse_duration(value: timedelta | str, where: str) -> timedelta:
    """Parse ``"30d"``, ``"6h"``, ``"90m"`` or a timedelta into a positive timedelta."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str) and _DURATION.match(value.strip()):
        match = _DURATION.match(value.strip())
        assert match is not None  # for mypy: checked on the line above
        duration = int(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise DefinitionError(
            f"{where}: duration {value!r} is invalid; write it like '30d', '6h' or '90m'"
        )
    if duration <= timedelta(0):
        raise DefinitionError(f"{where}: duration {value!r} must be positive")
    return duration


def format_duration(duration: timedelta) -> str:
    """Render a duration the way definitions write it ("30d", "6h", "90m")."""
    seconds = int(duration.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


def value_matches(dtype: str, value: Any) -> bool:
    """True when a Python default value fits a logical type (None fits every type)."""
    if value is None:
        return True
    if dtype == "string":
        return isinstance(value, str)
    if dtype == "long":
        return isinstance(value, int) and not isinstance(value, bool)
    if dtype == "double":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if dtype == "boolean":
        return isinstance(value, bool)
    if dtype == "timestamp":
        return isinstance(value, datetime) and value.tzinfo is not None
    return False

"""Reading a spine and refusing a bad one before any work is done.

A spine is a table of (entity keys, timestamp, anything else such as labels). Its
timestamps must be instants: a Parquet/Delta ``TIMESTAMP`` (UTC-adjusted) or RFC 3339
text with an offset (``2024-03-01T12:00:00Z``, ``...t12:00:00.5z``, ``...+02:00``,
converted to UTC; see :mod:`.spine_rows`). Naive values (``TIMESTAMP_NTZ``, text without
an offset) are refused, never guessed. A refusal names the first offending row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.errors import TrainingSetError
from feature_jobs.training.hashing import fingerprint, hash_sum, qcol, schema_string
from feature_jobs.training.spine_rows import (
    OFFSET_PATTERN,
    RFC3339_PATTERN,
    FirstRow,
    first_row_in_file,
    problem_test,
    raise_on_row_problems,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Row, SparkSession

_INTEGRAL = ("tinyint", "smallint", "int", "bigint")


@dataclass(frozen=True)
class SpineFacts:
    """What a manifest records of a checked spine, whichever engine read it."""

    path: Path
    format: str
    timestamp_column: str
    columns: tuple[str, ...]
    rows: int
    fingerprint: str


@dataclass(frozen=True)
class Spine(SpineFacts):
    """A checked spine: keys typed as the entities declare, timestamp as UTC instants."""

    df: DataFrame


@dataclass(frozen=True)
class SpineSource:
    """A spine whose columns passed the checks; its rows are not read yet.

    ``df`` holds the keys cast to their declared types and the timestamp as UTC instants;
    :func:`check_spine_rows` runs the row-level checks (one pass) when the caller chooses.
    """

    df: DataFrame
    raw: DataFrame
    path: Path
    format: str
    timestamp_column: str
    columns: tuple[str, ...]
    key_types: Mapping[str, str]


def load_spine(
    spark: SparkSession,
    path: Path,
    fmt: str,
    timestamp_column: str,
    key_types: Mapping[str, str],
) -> Spine:
    """Read and check a spine; one pass over it computes every data check and its fingerprint.

    Args:
        key_types: every entity key the requested views need, with its logical type.

    Raises:
        TrainingSetError: a missing or mistyped column, null keys or timestamps, naive or
            unparseable timestamps (one line per problem).
    """
    return check_spine_rows(open_spine(spark, path, fmt, timestamp_column, key_types))


def open_spine(
    spark: SparkSession,
    path: Path,
    fmt: str,
    timestamp_column: str,
    key_types: Mapping[str, str],
) -> SpineSource:
    """Read a spine's schema and check its columns (no rows are read).

    Raises:
        TrainingSetError: a missing or mistyped key or timestamp column.
    """
    raw = _read(spark, path, fmt, timestamp_column, key_types)
    check_column_types(_types(raw), timestamp_column, key_types)
    keys = _typed_keys(key_types)
    parsed = _parsed_timestamp(raw, timestamp_column)
    df = raw.select(
        *[
            keys[c].alias(c) if c in keys else parsed.alias(c) if c == timestamp_column else qcol(c)
            for c in raw.columns
        ]
    )
    return SpineSource(
        df=df,
        raw=raw,
        path=path,
        format=fmt,
        timestamp_column=timestamp_column,
        columns=tuple(raw.columns),
        key_types=dict(key_types),
    )


def check_spine_rows(source: SpineSource) -> Spine:
    """Run every row-level check and the fingerprint in one pass over the spine.

    Raises:
        TrainingSetError: null keys or timestamps, naive or unparseable timestamps (one
            line naming every problem).
    """
    from pyspark.sql import functions as F

    raw, timestamp_column = source.raw, source.timestamp_column
    text = qcol(timestamp_column)
    # Keys are checked after the cast to their declared type: a CSV value that is not a
    # number counts as null.
    problems = {f"null:{k}": c.isNull() for k, c in _typed_keys(source.key_types).items()}
    problems["null_ts"] = text.isNull()
    if _is_text(raw, timestamp_column):
        offset = F.trim(text).rlike(OFFSET_PATTERN)
        problems["naive"] = text.isNotNull() & ~offset
        problems["unparseable"] = offset & _parsed_timestamp(raw, timestamp_column).isNull()
    checks = [F.count(F.lit(1)).alias("rows"), hash_sum(raw.columns).alias("hash")]
    checks += [F.count_if(bad).alias(name) for name, bad in problems.items()]
    # The least file name holding each problem: its first such row is the one named.
    where = F.struct(F.col("_metadata.file_name"), F.col("_metadata.file_path").alias("path"))
    checks += [F.min(F.when(bad, where)).alias(f"first:{name}") for name, bad in problems.items()]
    stats = raw.agg(*checks).first()
    assert stats is not None  # a global aggregate always yields one row
    counts = {name: stats[name] for name in ("rows", *problems)}
    if any(counts[name] for name in problems):
        first = {
            name: _first_row(source, name, stats[f"first:{name}"])
            for name in problems
            if stats[f"first:{name}"] is not None
        }
        raise_on_row_problems(counts, timestamp_column, first)
    rows = int(stats["rows"])
    return Spine(
        df=source.df,
        path=source.path,
        format=source.format,
        timestamp_column=timestamp_column,
        columns=source.columns,
        rows=rows,
        fingerprint=fingerprint(rows, stats["hash"], schema_string(raw)),
    )


def _first_row(source: SpineSource, problem: str, found: Row) -> FirstRow:
    """The first offending row of the file Spark found the first problem in."""
    if problem.startswith("null:"):
        column = problem.split(":", 1)[1]
        long_key = source.key_types[column] == "long"
    else:
        column, long_key = source.timestamp_column, False
    csv_text = source.format == "csv"
    check = problem_test(problem, long_key, csv_text)
    return first_row_in_file(found["path"], column, check, csv_text)


def _typed_keys(key_types: Mapping[str, str]) -> dict[str, Column]:
    return {k: qcol(k).cast(SPARK_TYPES[t]) for k, t in key_types.items()}


def _is_text(raw: DataFrame, timestamp_column: str) -> bool:
    return bool(raw.schema[timestamp_column].dataType.simpleString() == "string")


def _parsed_timestamp(raw: DataFrame, timestamp_column: str) -> Column:
    """The timestamp column as instants; a text must be RFC 3339 (others become null)."""
    from pyspark.sql import functions as F

    text = qcol(timestamp_column)
    if not _is_text(raw, timestamp_column):
        return text
    trimmed = F.trim(text)
    # Spark's cast reads more than RFC 3339 (no seconds, nanoseconds cut off) and less
    # (no lowercase t or z): the grammar decides, the cast only converts what passed it.
    return F.when(trimmed.rlike(RFC3339_PATTERN), F.upper(trimmed).try_cast("timestamp"))


def _read(
    spark: SparkSession, path: Path, fmt: str, ts: str, key_types: Mapping[str, str]
) -> DataFrame:
    if fmt in ("delta", "parquet"):
        return spark.read.format(fmt).load(str(path))
    if fmt != "csv":
        raise TrainingSetError(f"--spine-format {fmt!r} is unknown; use parquet, csv or delta")
    # Infer the label columns' types, but keep the timestamp as text (so a missing offset
    # is seen, not silently read in some zone) and the keys as their declared types.
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    inferred = spark.read.csv(str(path), header=True, inferSchema=True).schema
    fields = []
    for field in inferred.fields:
        if field.name == ts:
            field = StructField(ts, StringType(), True)
        elif field.name in key_types:
            # A value that is not a number becomes null and is reported as a null key.
            kind = LongType() if key_types[field.name] == "long" else StringType()
            field = StructField(field.name, kind, True)
        fields.append(field)
    return spark.read.csv(str(path), header=True, schema=StructType(fields), mode="PERMISSIVE")


def _types(df: DataFrame) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}


def check_column_types(types: Mapping[str, str], ts: str, key_types: Mapping[str, str]) -> None:
    """Refuse missing or mistyped key and timestamp columns.

    Args:
        types: every spine column with its Spark type name (``simpleString``).

    Raises:
        TrainingSetError: one line naming every problem.
    """
    problems = []
    missing = [k for k in key_types if k not in types]
    if missing:
        problems.append(
            f"spine has no column {', '.join(map(repr, missing))} (entity key of a requested "
            f"view); spine columns are: {', '.join(types)}"
        )
    if ts not in types:
        problems.append(
            f"spine has no timestamp column {ts!r}; pass --timestamp-column with one of: "
            f"{', '.join(types)}"
        )
    elif types[ts] == "timestamp_ntz":
        problems.append(
            f"spine column {ts!r} holds naive timestamps (TIMESTAMP_NTZ); write UTC instants "
            "(a UTC-adjusted timestamp, or text like 2024-03-01T12:00:00Z)"
        )
    elif types[ts] not in ("timestamp", "string"):
        problems.append(
            f"spine column {ts!r} is {types[ts]}; it must be a timestamp or RFC 3339 text with "
            "an offset such as 2024-03-01T12:00:00Z"
        )
    for key, logical in key_types.items():
        actual = types.get(key)
        if actual is None or (logical == "long" and actual in _INTEGRAL):
            continue
        if logical == "string" and actual == "string":
            continue
        problems.append(
            f"spine column {key!r} is {actual} but the entity declares it {logical}; "
            f"write it as {logical}"
        )
    if problems:
        raise TrainingSetError("; ".join(problems))

"""Read a raw source into Spark and hold it to its declared schema and to UTC."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from feature_jobs.definitions import Source
from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.disk import size_on_disk
from feature_jobs.errors import SourceDataError
from feature_jobs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

# Integer and float widths that widen losslessly into the declared logical type.
_WIDENS_TO = {
    "bigint": {"tinyint", "smallint", "int", "bigint"},
    "double": {"float", "double", "tinyint", "smallint", "int", "bigint"},
    "string": {"string"},
    "boolean": {"boolean"},
    "timestamp": {"timestamp"},
}


def read_source(spark: SparkSession, settings: Settings, source: Source) -> DataFrame:
    """The source's rows with exactly its declared columns, types and UTC timestamps.

    Raises:
        SourceDataError: the data is missing, a column is absent or has another type, or
            timestamps carry no time zone while the source says ``naive_timestamps="reject"``.
    """
    where = f"source {source.name}"
    if source.table is not None:
        raw = spark.table(source.table)
        location = f"table {source.table}"
    else:
        assert source.path is not None  # Source guarantees exactly one of path/table
        location = settings.resolve_source_path(source.path)
        if "://" not in location and not Path(location).exists():
            raise SourceDataError(
                f"{where}: no data at {location}; write the source there or fix its path "
                "(for the demo run `python -m feature_jobs demo`)"
            )
        reader = spark.read.format(source.format)
        if source.format == "csv":
            reader = reader.option("header", "true").option("inferSchema", "true")
        raw = reader.load(location)
    return conform(raw, source, location)


def conform(raw: DataFrame, source: Source, location: str) -> DataFrame:
    """Select and type the declared columns of ``raw``, or fail naming the bad column."""
    from pyspark.sql import functions as F

    actual = {field.name: field.dataType.simpleString() for field in raw.schema.fields}
    columns: list[Column] = []
    for name, logical in source.schema.items():
        wanted = SPARK_TYPES[logical]
        found = actual.get(name)
        if found is None:
            raise SourceDataError(
                f"source {source.name}: column {name!r} is missing from {location}; "
                f"add it to the data or remove it from the source schema"
            )
        if logical == "timestamp" and found == "timestamp_ntz":
            columns.append(_naive_timestamp(source, name, location))
            continue
        if found not in _WIDENS_TO[wanted]:
            raise SourceDataError(
                f"source {source.name}: column {name!r} is {found} in {location} but the "
                f"source declares {logical}; fix the data or the declared type"
            )
        columns.append(F.col(name).cast(wanted).alias(name))
    return raw.select(*columns)


def _naive_timestamp(source: Source, name: str, location: str) -> Column:
    from pyspark.sql import functions as F

    if source.naive_timestamps != "utc":
        raise SourceDataError(
            f"source {source.name}: column {name!r} in {location} holds timestamps without a "
            "time zone; write them as UTC instants, or declare naive_timestamps='utc' if they "
            "are UTC wall-clock times"
        )
    # Declared rule: naive values are UTC wall-clock time. With the session in UTC this
    # cast keeps the wall-clock digits and makes them an instant, shifting nothing.
    return F.col(name).cast("timestamp").alias(name)


def check_rows(events: DataFrame, source: Source, keys: tuple[str, ...], view: str) -> None:
    """Refuse rows no feature can be computed from: null keys, times or dedup keys.

    One Spark action counts every problem at once.
    """
    from pyspark.sql import functions as F

    checked = list(dict.fromkeys([*keys, source.timestamp_column, *source.dedup_key]))
    counts = events.agg(*[F.sum(F.col(c).isNull().cast("long")).alias(c) for c in checked]).first()
    assert counts is not None
    problems = [f"{counts[c]} rows with a null {c}" for c in checked if counts[c]]
    if problems:
        raise SourceDataError(
            f"source {source.name} (view {view}): {', '.join(problems)}; fix or filter "
            "those rows at the source before materializing"
        )


def local_source_bytes(settings: Settings, sources: Iterable[Source]) -> int | None:
    """Total bytes of the sources' files, or None when one is not in local files.

    A catalog table or a remote URI has no size we can read without starting Spark, so
    the answer is unknown and the caller assumes a large job.
    """
    total = 0
    for source in {s.name: s for s in sources}.values():
        if source.path is None:  # a catalog table
            return None
        location = settings.resolve_source_path(source.path)
        if "://" in location:
            return None
        total += size_on_disk(Path(location))
    return total

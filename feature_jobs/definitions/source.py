"""Source: where raw events live and how to read them (time column, dedup key, filter)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from feature_jobs.definitions.types import check_name, check_type
from feature_jobs.errors import DefinitionError

SourceFormat = Literal["parquet", "delta", "csv"]


@dataclass(frozen=True, kw_only=True)
class Source:
    """A table of raw events.

    Args:
        name: identifier of the source.
        schema: column name to logical type; the engine checks the data against it.
        path: file or folder (relative paths resolve under ``SKEWLESS_DATA_ROOT``), or
        table: a table name in the Spark catalog (exactly one of ``path``/``table``).
        format: "parquet", "delta" or "csv" when ``path`` is used.
        timestamp_column: the event time; a UTC timestamp column.
        ingestion_timestamp_column: when the row arrived; the newest delivery of a
            duplicated record wins. Required with ``dedup_key``.
        dedup_key: columns identifying a record; rows sharing them are one record, and
            the one with the latest ``ingestion_timestamp_column`` is kept (ties: the
            latest event time; deliveries equal in both are taken to be copies).
            ``last`` also breaks ties on event time by this key.
        filter: a row-level Spark SQL predicate applied before any feature sees the rows.
        naive_timestamps: what to do with timestamps without a time zone: "reject"
            (default; fail with a clear error) or "utc" (declare they are UTC wall time).
    """

    name: str
    schema: Mapping[str, str]
    path: str | None = None
    table: str | None = None
    format: SourceFormat = "parquet"
    timestamp_column: str = "event_ts"
    ingestion_timestamp_column: str | None = None
    dedup_key: Sequence[str] = ()
    filter: str | None = None
    naive_timestamps: Literal["reject", "utc"] = "reject"
    description: str = ""

    def __post_init__(self) -> None:
        where = f"source {self.name}"
        check_name("source", self.name)
        if (self.path is None) == (self.table is None):
            raise DefinitionError(f"{where}: give exactly one of path= or table=")
        if self.format not in ("parquet", "delta", "csv"):
            raise DefinitionError(
                f"{where}: format {self.format!r} is unknown; use 'parquet', 'delta' or 'csv'"
            )
        if self.naive_timestamps not in ("reject", "utc"):
            raise DefinitionError(
                f"{where}: naive_timestamps={self.naive_timestamps!r}; use 'reject' or 'utc'"
            )
        if not self.schema:
            raise DefinitionError(f"{where}: schema is empty; declare the columns and types")
        for column, dtype in self.schema.items():
            check_type(dtype, f"{where}: column {column}")
        object.__setattr__(self, "schema", dict(self.schema))
        object.__setattr__(self, "dedup_key", tuple(self.dedup_key))
        self._require_column(self.timestamp_column, "timestamp_column", "timestamp")
        if self.ingestion_timestamp_column is not None:
            self._require_column(
                self.ingestion_timestamp_column, "ingestion_timestamp_column", "timestamp"
            )
        for column in self.dedup_key:
            self._require_column(column, "dedup_key", None)
        if self.dedup_key and self.ingestion_timestamp_column is None:
            # Without a delivery time, which copy of a record wins would be up to Spark's
            # row order: a re-run could compute other values from the same input.
            raise DefinitionError(
                f"{where}: dedup_key {list(self.dedup_key)} needs ingestion_timestamp_column "
                "to say which delivery of a record wins; name the column holding when each "
                "row arrived, or drop dedup_key if every record arrives once"
            )

    def _require_column(self, column: str, field_name: str, dtype: str | None) -> None:
        if column not in self.schema:
            raise DefinitionError(
                f"source {self.name}: {field_name} names unknown column {column!r}; "
                f"known columns: {', '.join(self.schema)}"
            )
        if dtype is not None and self.schema[column] != dtype:
            raise DefinitionError(
                f"source {self.name}: {field_name} column {column!r} has type "
                f"{self.schema[column]!r}; it must be {dtype!r}"
            )

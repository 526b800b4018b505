"""Reading and checking a spine without Spark, to the same verdicts and fingerprint.

The checks and their messages are :mod:`feature_jobs.training.spine`'s; the types are the
ones a Spark read of the same files gives (:func:`..arrow_hash.spark_type_name`), so the
fingerprint is identical. What only Spark's readers define is refused (the build then
belongs to the Spark engine): CSV spines (Spark infers their types), text timestamps
(Spark's parser decides what parses), partitioned folders.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from feature_jobs.errors import LocalEngineRefused
from feature_jobs.offline import delta_rs
from feature_jobs.training.arrow_hash import spark_type_name, table_hash_total
from feature_jobs.training.hashing import fingerprint
from feature_jobs.training.spine import SpineFacts, check_column_types
from feature_jobs.training.spine_rows import FirstRow, raise_on_row_problems


@dataclass(frozen=True)
class LocalSpine:
    """A checked spine in memory: keys cast to their declared types, times as UTC µs."""

    facts: SpineFacts
    table: pa.Table


def spine_files(path: Path, fmt: str) -> list[str]:
    """The Parquet files a read of the spine at ``path`` scans.

    Raises:
        LocalEngineRefused: a CSV spine, a partitioned folder or Delta table.
    """
    if fmt == "csv":
        raise LocalEngineRefused(
            f"spine {path} is CSV, whose column types Spark infers; write it as Parquet to "
            "use the local engine, or use --engine spark"
        )
    if fmt == "delta":
        version = delta_rs.pin_version(str(path), f"spine {path}")
        files = delta_rs.version_files(str(path), version, f"spine {path}", check_files=True)
        if any(date is not None for date in files.snapshot_dates) or _partitioned(path):
            raise _partitioned_refusal(path)
        return list(files.files)
    if path.is_file():
        return [str(path)]
    found = []
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.name.startswith(("_", ".")):
            continue  # Spark's readers skip these too (_SUCCESS, .crc files)
        if entry.is_dir():
            raise _partitioned_refusal(path)
        found.append(entry.path)
    return found


def load_spine(
    path: Path, fmt: str, timestamp_column: str, key_types: Mapping[str, str]
) -> LocalSpine:
    """Read a spine, run every check, compute its fingerprint.

    Raises:
        TrainingSetError: the problems the Spark engine would report, worded the same.
        LocalEngineRefused: a spine only the Spark engine reads faithfully.
    """
    files = spine_files(path, fmt)
    tables = _read_tables(files, path)
    raw = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    parts = [(os.path.basename(f), t.num_rows) for f, t in zip(files, tables, strict=True)]
    return check_spine(raw, path, fmt, timestamp_column, key_types, parts)


def check_spine(
    raw: pa.Table,
    path: Path,
    fmt: str,
    timestamp_column: str,
    key_types: Mapping[str, str],
    parts: Sequence[tuple[str, int]] | None = None,
) -> LocalSpine:
    """Check a spine already in memory (as its Parquet files read) and fingerprint it.

    Args:
        parts: the name and row count of each file ``raw`` was read from, in order, to
            name an offending row as Spark does; by default one file, ``path`` itself.
    """
    types = {}
    for field in raw.schema:
        try:
            types[field.name] = spark_type_name(field.type)
        except Exception:
            raise LocalEngineRefused(
                f"spine column {field.name!r} is {field.type}, a type the local engine does "
                "not hash as Spark does; use --engine spark"
            ) from None
    check_column_types(types, timestamp_column, key_types)
    if types[timestamp_column] == "string":
        raise LocalEngineRefused(
            f"spine column {timestamp_column!r} holds text timestamps, which Spark's parser "
            "reads; store them as UTC timestamps to use the local engine, or use --engine spark"
        )
    checked = {f"null:{key}": key for key in key_types} | {"null_ts": timestamp_column}
    stats: dict[str, object] = {name: raw.column(c).null_count for name, c in checked.items()}
    if any(stats.values()):
        files = parts if parts is not None else [(path.name, raw.num_rows)]
        first = {
            name: _first_null(raw.column(column), files)
            for name, column in checked.items()
            if stats[name]
        }
        raise_on_row_problems(stats, timestamp_column, first)
    schema = ",".join(f"{name}:{kind}" for name, kind in types.items())
    total = table_hash_total(raw, raw.column_names)
    facts = SpineFacts(
        path=path,
        format=fmt,
        timestamp_column=timestamp_column,
        columns=tuple(raw.column_names),
        rows=raw.num_rows,
        fingerprint=fingerprint(raw.num_rows, total, schema),
    )
    return LocalSpine(facts, _typed(raw, timestamp_column, key_types))


def _first_null(column: pa.ChunkedArray, parts: Sequence[tuple[str, int]]) -> FirstRow:
    """The null of least (file name, position), as Spark's check names it."""
    found = []
    start = 0
    for name, rows in parts:
        nulls = pc.is_null(column.slice(start, rows))
        index = pc.index(nulls, True).as_py()
        if index >= 0:
            found.append((name, index))
        start += rows
    name, index = min(found)
    return FirstRow(file=name, row=index + 1)


def _typed(raw: pa.Table, ts: str, key_types: Mapping[str, str]) -> pa.Table:
    """Keys as the entities declare them (long: int64), the timestamp as UTC microseconds."""
    columns = []
    for name in raw.column_names:
        column = raw.column(name)
        if key_types.get(name) == "long":
            column = column.cast(pa.int64())
        elif name == ts:
            column = _utc_micros(column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=raw.column_names)


def _utc_micros(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # A safe cast: the fingerprint's hashing already refused nanoseconds that are not
    # whole microseconds, so nothing here can lose data.
    return column.cast(pa.timestamp("us", "UTC"))


def _read_parquet(files: list[str], path: Path) -> pa.Table:
    tables = _read_tables(files, path)
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _read_tables(files: list[str], path: Path) -> list[pa.Table]:
    """Each file's rows; refused when there are none or their schemas differ."""
    tables = [_read_file(f) for f in files]
    if not tables:
        raise LocalEngineRefused(f"spine {path} holds no Parquet file; use --engine spark")
    first = tables[0].schema
    if any(not t.schema.equals(first) for t in tables[1:]):
        raise LocalEngineRefused(
            f"the files of spine {path} differ in schema; Spark reads them by its own rules, "
            "use --engine spark"
        )
    return tables


def _read_file(file: str) -> pa.Table:
    """One Parquet file, with INT96 timestamps read as Spark reads them: UTC instants.

    Spark writes timestamps as INT96 by default; Arrow would read them as naive values.
    """
    schema = pq.ParquetFile(file).schema
    int96 = {
        schema.column(i).path.split(".")[0]
        for i in range(len(schema))
        if schema.column(i).physical_type == "INT96"
    }
    # ParquetFile, not read_table: the latter imports pyarrow.dataset (and pandas), 0.5 s.
    table = pq.ParquetFile(file, coerce_int96_timestamp_unit="us").read()
    for name in int96:
        i = table.schema.get_field_index(name)
        column = table.column(i)
        if pa.types.is_timestamp(column.type) and column.type.tz is None:
            table = table.set_column(i, name, column.cast(pa.timestamp("us", "UTC")))
    return table


def read_output(path: Path, fmt: str) -> pa.Table:
    """A training set's rows as written by either engine (Parquet folder or Delta table)."""
    return _read_parquet(spine_files(path, fmt), path)


def _partitioned(path: Path) -> bool:
    return any(e.is_dir() and not e.name.startswith(("_", ".")) for e in os.scandir(path))


def _partitioned_refusal(path: Path) -> LocalEngineRefused:
    return LocalEngineRefused(
        f"spine {path} is partitioned into folders, whose columns Spark derives; use --engine spark"
    )

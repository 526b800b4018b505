"""Delta versions read through delta-rs, for the local training engine (no JVM).

The local engine reads the Parquet files of one pinned Delta version with DuckDB. This
module pins that version and lists its files from the Delta log with delta-rs, the same
versions Spark's Delta would pin (both read the one log), and refuses what delta-rs or a
plain Parquet read could not reproduce faithfully:

- deletion vectors (rows deleted without rewriting a file: a Parquet read would resurrect
  them) and column mapping (Parquet column names differ from the table's);
- any other reader feature it does not know, and commits staged but not yet in the log;
- a remote warehouse (the local engine reads local folders only).

A refusal is one line; ``engine="auto"`` then uses Spark, ``engine="local"`` fails with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from feature_jobs.errors import LocalEngineRefused
from feature_jobs.offline.version_errors import (
    missing_table,
    unreadable_version,
    vacuumed_version,
)

#: Reader features whose tables a plain read of the data files would get wrong.
_UNFAITHFUL_FEATURES = {
    "deletionVectors": "it has deletion vectors",
    "columnMapping": "it uses column mapping",
}


@dataclass(frozen=True)
class VersionFiles:
    """The data files of one Delta version: what a read of that version scans."""

    path: str
    version: int
    files: tuple[str, ...]  # absolute local paths of the Parquet files
    snapshot_dates: tuple[str | None, ...]  # each file's snapshot_date partition, if any
    columns: frozenset[str]  # the table's columns at that version
    size_bytes: int


def pin_version(path: str, what: str) -> int:
    """The current version of the Delta table at ``path`` (as Spark would pin it).

    Raises:
        TrainingSetError: there is no Delta table at ``path``.
        LocalEngineRefused: the table cannot be read faithfully without Spark.
    """
    from deltalake import DeltaTable

    _check_local(path, what)
    if not (Path(path) / "_delta_log").is_dir():
        raise missing_table(what, path)
    table = DeltaTable(path)
    _check_faithful(table, path, what)
    return int(table.version())


def version_files(path: str, version: int, what: str, check_files: bool) -> VersionFiles:
    """The files of ``version`` of the table at ``path``.

    Args:
        check_files: verify every file still exists (a vacuum removes the files of
            superseded versions while their log entries remain).

    Raises:
        TrainingSetError: the version cannot be read or was vacuumed.
        LocalEngineRefused: that version cannot be read faithfully without Spark.
    """
    from deltalake import DeltaTable

    _check_local(path, what)
    try:
        table = DeltaTable(path, version=version)
    except Exception as exc:  # delta-rs raises several error types for a missing log entry
        raise unreadable_version(what, path, version, str(exc).splitlines()[0]) from None
    _check_faithful(table, path, what)
    import pyarrow as pa

    # From the Arrow stream: pa.table() would import pandas (0.4 s) to rule it out.
    adds = pa.RecordBatchReader.from_stream(table.get_add_actions(flatten=False)).read_all()
    relative = adds.column("path").to_pylist()
    files = tuple(os.path.join(path, p) for p in relative)
    if check_files:
        missing = [f for f in files if not os.path.exists(f)]
        if missing:
            raise vacuumed_version(what, path, version, missing)
    dates: tuple[str | None, ...] = (None,) * len(files)
    if "partition" in adds.column_names:
        dates = tuple(
            None if p is None or p.get("snapshot_date") is None else str(p["snapshot_date"])
            for p in adds.column("partition").to_pylist()
        )
    columns = frozenset(field.name for field in table.schema().fields)
    size = sum(int(s) for s in adds.column("size_bytes").to_pylist())
    return VersionFiles(path, version, files, dates, columns, size)


def read_table(path: str, version: int, columns: list[str]) -> object:
    """A small table (the sync log) at ``version``, as a pyarrow Table of ``columns``."""
    from deltalake import DeltaTable

    table = DeltaTable(path, version=version)
    _check_faithful(table, path, "the sync log")
    return table.to_pyarrow_table(columns=columns)


def _check_local(path: str, what: str) -> None:
    if "://" in path:
        raise LocalEngineRefused(
            f"{what} is at {path}, a remote warehouse; the local engine reads local folders "
            "only - use --engine spark"
        )


def _check_faithful(table: object, path: str, what: str) -> None:
    protocol = table.protocol()  # type: ignore[attr-defined]
    features = list(protocol.reader_features or [])
    for feature in features:
        if feature in _UNFAITHFUL_FEATURES:
            raise LocalEngineRefused(
                f"{what} at {path} cannot be read by the local engine: "
                f"{_UNFAITHFUL_FEATURES[feature]} - use --engine spark"
            )
    known = {"timestampNtz", "v2Checkpoint", "vacuumProtocolCheck", "typeWidening"}
    unknown = [f for f in features if f not in known]
    if unknown or protocol.min_reader_version > 3:
        raise LocalEngineRefused(
            f"{what} at {path} needs Delta reader feature(s) "
            f"{', '.join(unknown) or protocol.min_reader_version} the local engine does not "
            "read - use --engine spark"
        )
    configuration = table.metadata().configuration  # type: ignore[attr-defined]
    if configuration.get("delta.columnMapping.mode", "none") != "none":
        raise LocalEngineRefused(
            f"{what} at {path} cannot be read by the local engine: it uses column mapping - "
            "use --engine spark"
        )
    staged = Path(path) / "_delta_log" / "_staged_commits"
    if staged.is_dir() and any(staged.iterdir()):
        raise LocalEngineRefused(
            f"{what} at {path} has commits staged outside its log; the local engine reads "
            "the log only - use --engine spark"
        )

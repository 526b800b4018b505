"""What the feature catalog shows from Delta, read without Spark (delta-rs, no JVM).

The catalog page of ``serve`` must not start Spark, so it reads here, through delta-rs:

- the gate's record of every snapshot (``_skewless/profiles``): row count, null rate,
  mean and PSI per feature, and whether the batch passed or was quarantined;
- the checks that tripped (``_skewless/quarantine``): the refused batches and warnings;
- the state of a view's offline table from its Delta log alone (latest commit, newest
  ``snapshot_date`` partition, row counts from the files' statistics): no data file of a
  view is opened.

The bookkeeping tables are small (views x features x snapshots) and read whole, without
the wide columns (percentiles, sampled rows). Each table is read once per Delta version:
a page view re-reads only the logs to see whether anything was committed since.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from feature_jobs.errors import OfflineStoreError, first_line
from feature_jobs.offline.layout import profiles_table, quarantine_table, view_table
from feature_jobs.settings import Settings

#: The profile table's stand-in column of an empty batch (``validation.profile.ROWS_ONLY``).
ROWS_ONLY = "__rows__"
_PROFILE_COLUMNS = [
    "view", "feature_ts", "snapshot_date", "gate_id", "definition_version", "status",
    "column", "row_count", "null_rate", "mean", "psi", "profiled_at",
]  # fmt: skip
_FINDING_COLUMNS = [
    "view", "gate_id", "snapshot_date", "feature_ts", "check", "column", "blocking",
    "message", "quarantined_at",
]  # fmt: skip

T = TypeVar("T")


@dataclass(frozen=True)
class ColumnStats:
    """One feature's profile in one snapshot, as the gate recorded it."""

    null_rate: float
    mean: float | None
    psi: float | None


@dataclass(frozen=True)
class GateRun:
    """The gate's latest verdict on one snapshot of a view, with its profile."""

    feature_ts: datetime
    snapshot_date: date
    status: str  # "passed" or "quarantined"
    rows: int
    definition_version: str
    gate_id: str
    profiled_at: datetime
    columns: Mapping[str, ColumnStats]

    @property
    def quarantined(self) -> bool:
        """True when the gate refused this snapshot (it is not in ``offline/<view>``)."""
        return self.status == "quarantined"


@dataclass(frozen=True)
class ReportedFinding:
    """One check that tripped in a gate run (blocking: the batch was refused)."""

    gate_id: str
    snapshot_date: date
    feature_ts: datetime
    check: str
    column: str | None
    blocking: bool
    message: str
    quarantined_at: datetime


@dataclass(frozen=True)
class OfflineTableState:
    """A view's offline table as its Delta log describes it (no data file read)."""

    version: int
    committed_at: datetime
    last_snapshot_date: date | None
    snapshot_dates: int
    rows: int | None  # None when some file carries no row count statistic


class CatalogReads:
    """The catalog's reads of one warehouse, each table cached per Delta version.

    Safe to share between the server's worker threads: a cache entry is replaced whole.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: dict[str, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def gate_runs(self) -> Mapping[str, tuple[GateRun, ...]]:
        """Per view, its snapshots' latest gate runs in time order (empty before the first)."""
        return self._cached(profiles_table(self.settings), "the profile table", _gate_runs, {})

    def findings(self) -> Mapping[str, tuple[ReportedFinding, ...]]:
        """Per view, every check that tripped, oldest first (empty before the first)."""
        return self._cached(quarantine_table(self.settings), "the quarantine table", _findings, {})

    def offline_state(self, view: str) -> OfflineTableState | None:
        """What ``offline/<view>`` holds, or None before its first materialize."""
        path = view_table(self.settings, view)
        return self._cached(path, f"offline/{view}", _offline_state, None)

    def _cached(self, path: str, what: str, read: Callable[[Any], T], missing: T) -> T:
        """``read`` of the table at ``path``'s current version, reused until it changes;
        ``missing`` when there is no table yet.

        Raises:
            OfflineStoreError: the table is remote or cannot be read; one line naming it.
        """
        if "://" in path:
            raise OfflineStoreError(
                f"{what} is at {path}; the catalog reads a local warehouse only (it runs "
                "without Spark) - look at the table with Spark SQL instead"
            )
        if not (Path(path) / "_delta_log").is_dir():
            return missing
        from deltalake import DeltaTable

        try:
            table = DeltaTable(path)
            version = int(table.version())
            with self._lock:
                hit = self._cache.get(path)
            if hit is not None and hit[0] == version:
                return hit[1]  # type: ignore[no-any-return]
            value = read(table)
        except Exception as exc:  # delta-rs raises several types for one unreadable log
            raise OfflineStoreError(
                f"cannot read {what} at {path} ({first_line(exc, 200)})"
            ) from None
        with self._lock:
            self._cache[path] = (version, value)
        return value


def _gate_runs(table: Any) -> dict[str, tuple[GateRun, ...]]:
    rows = table.to_pyarrow_table(columns=_PROFILE_COLUMNS).to_pylist()
    # A snapshot judged more than once (a re-run after a fix) shows its latest verdict.
    latest: dict[tuple[str, datetime], tuple[datetime, str]] = {}
    for row in rows:
        key = (row["view"], row["feature_ts"])
        run = (row["profiled_at"], row["gate_id"])
        if key not in latest or run > latest[key]:
            latest[key] = run
    grouped: dict[tuple[str, datetime], list[dict[str, Any]]] = {}
    for row in rows:
        key = (row["view"], row["feature_ts"])
        if latest[key][1] == row["gate_id"]:
            grouped.setdefault(key, []).append(row)
    by_view: dict[str, list[GateRun]] = {}
    for (view, feature_ts), batch in grouped.items():
        first = batch[0]
        by_view.setdefault(view, []).append(
            GateRun(
                feature_ts=_utc(feature_ts),
                snapshot_date=first["snapshot_date"],
                status=first["status"],
                rows=int(first["row_count"]),
                definition_version=first["definition_version"],
                gate_id=first["gate_id"],
                profiled_at=_utc(first["profiled_at"]),
                columns={
                    r["column"]: ColumnStats(float(r["null_rate"] or 0.0), r["mean"], r["psi"])
                    for r in batch
                    if r["column"] != ROWS_ONLY
                },
            )
        )
    return {view: tuple(sorted(runs, key=lambda r: r.feature_ts)) for view, runs in by_view.items()}


def _findings(table: Any) -> dict[str, tuple[ReportedFinding, ...]]:
    rows = table.to_pyarrow_table(columns=_FINDING_COLUMNS).to_pylist()
    by_view: dict[str, list[ReportedFinding]] = {}
    for row in rows:
        by_view.setdefault(row["view"], []).append(
            ReportedFinding(
                gate_id=row["gate_id"],
                snapshot_date=row["snapshot_date"],
                feature_ts=_utc(row["feature_ts"]),
                check=row["check"],
                column=row["column"],
                blocking=bool(row["blocking"]),
                message=row["message"] or "",
                quarantined_at=_utc(row["quarantined_at"]),
            )
        )
    return {view: tuple(sorted(found, key=_finding_order)) for view, found in by_view.items()}


def _finding_order(finding: ReportedFinding) -> tuple[datetime, datetime, str, str]:
    return (finding.quarantined_at, finding.feature_ts, finding.check, finding.column or "")


def _offline_state(table: Any) -> OfflineTableState:
    import pyarrow as pa

    # The add actions of the current version: one per data file, with its partition and
    # row count statistic. Only the log is read.
    adds = pa.RecordBatchReader.from_stream(table.get_add_actions(flatten=False)).read_all()
    dates: set[date] = set()
    if "partition" in adds.column_names:
        for partition in adds.column("partition").to_pylist():
            value = (partition or {}).get("snapshot_date")
            if value is not None:
                dates.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
    counts = adds.column("num_records").to_pylist() if "num_records" in adds.column_names else []
    rows = None if any(c is None for c in counts) else sum(int(c) for c in counts)
    [last] = table.history(1)
    return OfflineTableState(
        version=int(table.version()),
        committed_at=datetime.fromtimestamp(int(last["timestamp"]) / 1000, UTC),
        last_snapshot_date=max(dates) if dates else None,
        snapshot_dates=len(dates),
        rows=rows,
    )


def _utc(moment: datetime) -> datetime:
    """delta-rs gives aware UTC timestamps; a naive one is UTC by the table's contract."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

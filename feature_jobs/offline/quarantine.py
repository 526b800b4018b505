"""Quarantine: a failed batch and its machine-readable report, kept in Delta.

Two append-only tables under ``<delta_root>/_skewless/``:

* ``quarantine``: the report, one row per failed (or warning) check of a gate run:
  ``gate_id, run_id, view, snapshot_date, feature_ts, definition_version, check, column,
  kind, blocking, failing_rows, total_rows, observed, baseline, threshold, message,
  sample`` (a few failing rows as JSON), ``quarantined_at``.
* ``quarantine_rows``: the whole batch, each row as JSON (any view's layout fits) with
  ``failed_checks``, the row checks that row breaks (empty for rows that only share the
  batch's fate). Written by the executors; nothing is collected.

Find a run's report with ``SELECT * FROM delta.`<...>/quarantine` WHERE gate_id = '<id>'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from feature_jobs.offline.append import append
from feature_jobs.offline.layout import quarantine_rows_table, quarantine_table
from feature_jobs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

REPORT_DDL = (
    "gate_id STRING, run_id STRING, view STRING, snapshot_date DATE, feature_ts TIMESTAMP, "
    "definition_version STRING, check STRING, column STRING, kind STRING, blocking BOOLEAN, "
    "failing_rows BIGINT, total_rows BIGINT, observed DOUBLE, baseline DOUBLE, "
    "threshold DOUBLE, message STRING, sample ARRAY<STRING>, quarantined_at TIMESTAMP"
)


@dataclass(frozen=True)
class BatchKey:
    """Which batch a gate run judged."""

    gate_id: str
    run_id: str
    view: str
    snapshot_date: date
    feature_ts: datetime
    definition_version: str


@dataclass(frozen=True)
class ReportedCheck:
    """One check of a report (the report's columns between the batch key and the time)."""

    check: str
    column: str | None
    kind: str
    blocking: bool
    failing_rows: int | None
    total_rows: int
    observed: float | None
    baseline: float | None
    threshold: float | None
    message: str
    sample: tuple[str, ...]


def report_location(settings: Settings, gate_id: str) -> str:
    """Where a gate run's report is, as a filter a person can paste into Spark SQL."""
    return f"{quarantine_table(settings)} where gate_id='{gate_id}'"


def append_report(
    spark: SparkSession,
    settings: Settings,
    key: BatchKey,
    checks: Sequence[ReportedCheck],
    quarantined_at: datetime,
) -> None:
    """Append the report rows of one gate run (one Delta commit)."""
    append_reports(spark, settings, [(key, checks)], quarantined_at)


def append_reports(
    spark: SparkSession,
    settings: Settings,
    reports: Sequence[tuple[BatchKey, Sequence[ReportedCheck]]],
    quarantined_at: datetime,
) -> None:
    """Append the reports of several batches (a range's snapshots) in one Delta commit."""
    rows = [
        (
            key.gate_id,
            key.run_id,
            key.view,
            key.snapshot_date,
            key.feature_ts,
            key.definition_version,
            c.check,
            c.column,
            c.kind,
            c.blocking,
            c.failing_rows,
            c.total_rows,
            c.observed,
            c.baseline,
            c.threshold,
            c.message,
            list(c.sample),
            quarantined_at,
        )
        for key, checks in reports
        for c in checks
    ]
    if rows:
        append(spark.createDataFrame(rows, REPORT_DDL), quarantine_table(settings))


def append_batch_rows(
    settings: Settings, key: BatchKey, rows: DataFrame, quarantined_at: datetime
) -> None:
    """Append a refused batch: ``rows`` has columns ``row`` (JSON) and ``failed_checks``."""
    from pyspark.sql import functions as F

    table = rows.select(
        F.lit(key.gate_id).alias("gate_id"),
        F.lit(key.run_id).alias("run_id"),
        F.lit(key.view).alias("view"),
        F.lit(key.snapshot_date).cast("date").alias("snapshot_date"),
        F.lit(key.feature_ts).cast("timestamp").alias("feature_ts"),
        F.col("row"),
        F.col("failed_checks"),
        F.lit(quarantined_at).cast("timestamp").alias("quarantined_at"),
    )
    append(table, quarantine_rows_table(settings), partition_by=["view"])

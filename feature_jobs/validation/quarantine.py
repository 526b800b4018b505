"""Quarantine: a failed batch and its machine-readable report, kept in Delta.

Two append-only tables under ``<delta_root>/_skewless/``:

* ``quarantine``: the report, one row per failed (or warning) check of a gate run:
  ``gate_id, run_id, view, snapshot_date, feature_ts, definition_version, check, column,
  kind, blocking, failing_rows, total_rows, observed, baseline, threshold, message,
  sample`` (up to ``SAMPLE_ROWS`` failing rows as JSON), ``quarantined_at``.
* ``quarantine_rows``: the whole batch, each row as JSON (any view's layout fits) with
  ``failed_checks``, the row checks that row breaks (empty for rows that only share the
  batch's fate). Written by the executors; nothing is collected.

Find a run's report with ``SELECT * FROM delta.`<...>/quarantine` WHERE gate_id = '<id>'``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from feature_jobs.settings import Settings
from feature_jobs.validation.delta_append import append
from feature_jobs.validation.findings import Finding
from feature_jobs.validation.rules import Rule

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

SAMPLE_ROWS = 10
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


def report_location(settings: Settings, gate_id: str) -> str:
    """Where a gate run's report is, as a filter a person can paste into Spark SQL."""
    return f"{settings.system_path('quarantine')} where gate_id='{gate_id}'"


def row_json(df: DataFrame) -> Column:
    """The whole row as JSON, nulls spelled out (a null key is what a reader looks for)."""
    from pyspark.sql import functions as F

    columns = F.struct(*[F.col(c) for c in df.columns])
    return F.to_json(columns, {"ignoreNullFields": "false"})


def row_predicate(finding: Finding, rules: Mapping[str, Rule]) -> Column | None:
    """The rows a finding is about: a rule's violations, or a column's nulls."""
    from pyspark.sql import functions as F

    if finding.rule_key is not None and finding.rule_key in rules:
        rule = rules[finding.rule_key]
        return None if rule.kind == "non_empty" else rule.violation()
    if finding.check == "null_rate_jump" and finding.column is not None:
        return F.col(finding.column).isNull()
    return None


def with_samples(
    df: DataFrame, findings: Sequence[Finding], rules: Mapping[str, Rule]
) -> list[Finding]:
    """Each finding with a sample of its rows.

    One small Spark job per failed check; this runs only when something failed.
    """
    from pyspark.sql import functions as F

    as_json = row_json(df).alias("row")
    sampled = []
    for finding in findings:
        predicate = row_predicate(finding, rules)
        if predicate is None:
            if finding.kind == "schema" and finding.failing_rows:
                rows = df.select(as_json).limit(SAMPLE_ROWS).collect()
                finding = finding.with_rows(finding.failing_rows, tuple(r["row"] for r in rows))
            sampled.append(finding)
            continue
        flagged = df.withColumn("__bad", predicate).filter(F.col("__bad")).drop("__bad")
        rows = flagged.select(as_json).limit(SAMPLE_ROWS).collect()
        sampled.append(finding.with_rows(finding.failing_rows, tuple(r["row"] for r in rows)))
    return sampled


def write_report(
    spark: SparkSession,
    settings: Settings,
    key: BatchKey,
    findings: Sequence[Finding],
    quarantined_at: datetime,
) -> None:
    """Append the report rows of one gate run (one Delta commit)."""
    rows = [
        (
            key.gate_id,
            key.run_id,
            key.view,
            key.snapshot_date,
            key.feature_ts,
            key.definition_version,
            f.check,
            f.column,
            f.kind,
            f.blocking,
            f.failing_rows,
            f.total_rows,
            f.observed,
            f.baseline,
            f.threshold,
            f.message,
            list(f.sample),
            quarantined_at,
        )
        for f in findings
    ]
    append(spark.createDataFrame(rows, REPORT_DDL), settings.system_path("quarantine"))


def write_rows(
    settings: Settings,
    df: DataFrame,
    key: BatchKey,
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    quarantined_at: datetime,
) -> None:
    """Append the batch's rows, each flagged with the row checks it breaks."""
    from pyspark.sql import functions as F

    flags = []
    for finding in findings:
        predicate = row_predicate(finding, rules)
        if predicate is not None and finding.blocking:
            flags.append(F.when(predicate, F.lit(finding.name)))
    failed = F.array_compact(F.array(*flags)) if flags else F.array().cast("array<string>")
    rows = df.select(
        F.lit(key.gate_id).alias("gate_id"),
        F.lit(key.run_id).alias("run_id"),
        F.lit(key.view).alias("view"),
        F.lit(key.snapshot_date).cast("date").alias("snapshot_date"),
        F.lit(key.feature_ts).cast("timestamp").alias("feature_ts"),
        row_json(df).alias("row"),
        failed.alias("failed_checks"),
        F.lit(quarantined_at).cast("timestamp").alias("quarantined_at"),
    )
    append(rows, settings.system_path("quarantine_rows"), partition_by=["view"])

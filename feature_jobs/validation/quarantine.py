"""Quarantine: which rows each finding is about, sampled for the report and flagged.

The report (one row per finding, with up to ``SAMPLE_ROWS`` failing rows as JSON) and a
refused batch (every row as JSON with the row checks it breaks) are kept in the offline
store's quarantine tables (:mod:`feature_jobs.offline.quarantine`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from feature_jobs.offline.quarantine import (
    BatchKey,
    ReportedCheck,
    append_batch_rows,
    append_reports,
)
from feature_jobs.settings import Settings
from feature_jobs.validation.findings import Finding
from feature_jobs.validation.rules import Rule

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

SAMPLE_ROWS = 10


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


def write_reports(
    spark: SparkSession,
    settings: Settings,
    reports: Sequence[tuple[BatchKey, Sequence[Finding]]],
    quarantined_at: datetime,
) -> None:
    """Append the reports of the batches of one gate run (one Delta commit)."""
    checks = [
        (
            key,
            [
                ReportedCheck(
                    check=f.check,
                    column=f.column,
                    kind=f.kind,
                    blocking=f.blocking,
                    failing_rows=f.failing_rows,
                    total_rows=f.total_rows,
                    observed=f.observed,
                    baseline=f.baseline,
                    threshold=f.threshold,
                    message=f.message,
                    sample=f.sample,
                )
                for f in findings
            ],
        )
        for key, findings in reports
    ]
    append_reports(spark, settings, checks, quarantined_at)


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
    rows = df.select(row_json(df).alias("row"), failed.alias("failed_checks"))
    append_batch_rows(settings, key, rows, quarantined_at)

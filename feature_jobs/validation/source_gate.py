"""Validate raw source rows against their Pandera contract before any feature sees them.

Call it on the rows a job reads (e.g. the events of the windows being materialized): one
Spark pass counts every rule; on failure one more small job per failed rule fetches an
example value for the error line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_jobs.definitions import Source
from feature_jobs.errors import SourceDataError
from feature_jobs.validation.contract import source_contract
from feature_jobs.validation.findings import Finding, from_pandera_errors, pandera_errors
from feature_jobs.validation.guard import validation_required
from feature_jobs.validation.scan import scan

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MAX_CHECKS_IN_LINE = 5


def validate_source(
    spark: SparkSession,
    source: Source,
    df: DataFrame,
    *,
    allow_unvalidated: bool = False,
    schemas_package: str = "schemas",
) -> int:
    """Check ``df`` (rows of ``source``) against its contract; return its row count.

    Raises:
        SourceDataError: a check failed; one line names the source, each failed check
            with its count and an example value, and where the rule is written.
        ConfigError: validation is switched off and ``allow_unvalidated`` is False.
    """
    if not validation_required(f"source {source.name}", allow_unvalidated):
        return -1
    contract = source_contract(source, schemas_package=schemas_package)
    result = scan(df, contract.runnable(df.schema), {})
    validated = contract.pandera_schema(result.violations).validate(df)
    rules = {rule.key: rule for rule in contract.rules}
    findings = from_pandera_errors(
        pandera_errors(validated),
        schema_name=contract.name,
        rules=rules,
        counts=result.violations,
        total_rows=result.rows,
    )
    if findings:
        shown = "; ".join(_describe(df, f, rules) for f in findings[:MAX_CHECKS_IN_LINE])
        more = len(findings) - MAX_CHECKS_IN_LINE
        if more > 0:
            shown += f"; and {more} more"
        line = (
            f"source {source.name}: {len(findings)} check(s) failed on {result.rows} rows: "
            f"{shown}; fix the raw data, or the rule in {schemas_package}/sources.py or the "
            f"source definition if the rule is wrong"
        )
        raise SourceDataError(" ".join(line.split()))
    return result.rows


def _describe(df: DataFrame, finding: Finding, rules: dict) -> str:  # type: ignore[type-arg]
    """``check[column]: N/M rows, e.g. <value>`` (the example costs one small job)."""
    rule = rules.get(finding.rule_key or "")
    if rule is None or rule.kind != "row" or finding.column is None:
        return finding.label
    example = df.filter(rule.violation()).select(finding.column).limit(1).collect()
    if not example:
        return finding.label
    return f"{finding.label}, e.g. {example[0][0]!r}"

"""Findings: what failed, read from Pandera's error report and from the batch checks.

Pandera's PySpark backend never raises: it stores a summary in ``df.pandera.errors``
(``{"SCHEMA"|"DATA": {reason: [{"column", "check", "error"}, ...]}}``). This module turns
that summary into :class:`Finding` records the gate quarantines, alerts on and raises for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from feature_jobs.alerts import AlertCheck
from feature_jobs.validation.rules import Rule

_QUOTED_COLUMN = re.compile(r"column '([^']+)'")


@dataclass(frozen=True)
class Finding:
    """One failed check with its counts and, for row checks, a sample of the rows.

    Attributes:
        check: the check's name (``not_null``, ``dtype('DoubleType()')``, ``psi``...).
        column: the column concerned; None for checks on whole rows or the batch.
        kind: ``schema`` (layout/types), ``row`` (a rule over rows) or ``batch``
            (a comparison with the previous snapshot).
        blocking: True fails the batch; False is a warning.
        failing_rows: rows that break it (None for metric checks).
        total_rows: rows in the batch.
        message: one human sentence.
        observed, baseline, threshold: the metric, its previous value and its limit.
        sample: up to a few failing rows as JSON.
        rule_key: the rule it comes from, for row checks.
    """

    check: str
    column: str | None
    kind: str
    blocking: bool
    failing_rows: int | None
    total_rows: int
    message: str
    observed: float | None = None
    baseline: float | None = None
    threshold: float | None = None
    sample: tuple[str, ...] = ()
    rule_key: str | None = None

    @property
    def name(self) -> str:
        """``check[column]`` (or just ``check`` for batch-wide checks)."""
        return f"{self.check}[{self.column}]" if self.column else self.check

    @property
    def label(self) -> str:
        """``check[column]: N rows`` as the error line prints it."""
        return self.alert_check().label()

    def alert_check(self) -> AlertCheck:
        """The finding as an alert names it."""
        detail = ""
        if self.kind == "batch" and self.observed is not None:
            detail = f"{self.observed:.4g} vs limit {self.threshold:g}"
            if self.baseline is not None:
                detail += f", baseline {self.baseline:.4g}"
        return AlertCheck(
            check=self.check,
            column=self.column,
            failing_rows=self.failing_rows,
            total_rows=self.total_rows if self.failing_rows is not None else None,
            detail=detail,
        )

    def with_rows(self, failing_rows: int | None, sample: tuple[str, ...]) -> Finding:
        """The same finding with its exact count and sample of rows."""
        return replace(self, failing_rows=failing_rows, sample=sample)


@dataclass(frozen=True)
class Skipped:
    """A batch check that did not compare a snapshot, and why (warm-up, no baseline...).

    Attributes:
        check: the check's name (``psi``, ``mean_shift_pct``...).
        column: the feature concerned; None for the whole snapshot.
        reason: one human sentence.
    """

    check: str
    column: str | None
    reason: str

    @property
    def name(self) -> str:
        """``check[column]`` (or just ``check`` for the whole snapshot)."""
        return f"{self.check}[{self.column}]" if self.column else self.check


def pandera_errors(validated: Any) -> Mapping[str, Mapping[str, list[dict[str, Any]]]]:
    """The error summary Pandera stored on a validated PySpark DataFrame ({} if none)."""
    return getattr(validated, "pandera").errors or {}  # noqa: B009 - typed stubs lack it


def from_pandera_errors(
    errors: Mapping[str, Mapping[str, list[dict[str, Any]]]] | None,
    *,
    schema_name: str,
    rules: Mapping[str, Rule],
    counts: Mapping[str, int],
    total_rows: int,
    blocking: bool = True,
) -> list[Finding]:
    """Findings for every error in a Pandera PySpark error summary.

    Args:
        errors: ``df.pandera.errors`` after ``schema.validate(df)``.
        schema_name: the schema's name (Pandera reports it as the column of frame checks).
        rules: rule key -> rule, to recognise rule checks.
        counts: rule key -> violations from the pass.
        total_rows: rows in the batch.
        blocking: whether these errors fail the batch.
    """
    findings: list[Finding] = []
    for category, reasons in (errors or {}).items():
        for reason, entries in reasons.items():
            for entry in entries:
                findings.append(
                    _finding(
                        category, reason, entry, schema_name, rules, counts, total_rows, blocking
                    )
                )
    return findings


def _finding(
    category: str,
    reason: str,
    entry: Mapping[str, Any],
    schema_name: str,
    rules: Mapping[str, Rule],
    counts: Mapping[str, int],
    total_rows: int,
    blocking: bool,
) -> Finding:
    column = entry.get("column")
    column = None if column in (schema_name, None) else str(column)
    check = str(entry.get("check"))
    text = str(entry.get("error", ""))
    rule = rules.get(f"{column or '*'}::{check}")
    if rule is not None and reason == "DATAFRAME_CHECK":
        # An empty batch has no rows to name.
        failing = None if rule.kind == "non_empty" else counts.get(rule.key, 0)
        return Finding(
            check=rule.name,
            column=rule.column,
            kind="row",
            blocking=blocking,
            failing_rows=failing,
            total_rows=total_rows,
            message=f"{rule.label} failed ({rule.origin} rule)",
            rule_key=rule.key,
        )
    if column is None:
        match = _QUOTED_COLUMN.search(text)
        column = match.group(1) if match else None
    # A wrong type or a missing column concerns every row of the batch.
    failing_rows = total_rows if reason in ("WRONG_DATATYPE", "COLUMN_NOT_IN_DATAFRAME") else None
    return Finding(
        check=check,
        column=column,
        kind="schema" if category == "SCHEMA" else "row",
        blocking=blocking,
        failing_rows=failing_rows,
        total_rows=total_rows,
        message=f"{reason.lower()}: {text[:300]}",
    )

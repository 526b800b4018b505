"""Validation gate called by materialize before any Delta write.

Placeholder until the Pandera gate lands (issue 3): it accepts every batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView
from feature_jobs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class GateResult:
    """What the gate decided for one batch (warnings do not block)."""

    passed: bool
    warnings: tuple[str, ...] = ()


def enforce_gate(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    snapshot: DataFrame,
    feature_ts: datetime,
    run_id: str,
    allow_unvalidated: bool = False,
) -> GateResult:
    """Validate ``snapshot``; on failure quarantine it, alert, and raise ValidationFailed."""
    return GateResult(passed=True)

"""The profile table ``_skewless/profiles``: one row per view, snapshot and column.

Append-only (every gate run adds its rows, so concurrent views never conflict); each
row says whether its batch ``passed`` or was ``quarantined``. Chart a feature over time
with, e.g.::

    SELECT feature_ts, null_rate, mean, psi FROM delta.`<delta_root>/_skewless/profiles`
    WHERE view = 'user_transaction_stats' AND column = 'amount_avg_30d' AND status = 'passed'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING

from feature_jobs.offline.append import append
from feature_jobs.offline.layout import profiles_table, table_exists
from feature_jobs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PROFILE_DDL = (
    "view STRING, feature_ts TIMESTAMP, snapshot_date DATE, run_id STRING, gate_id STRING, "
    "definition_version STRING, status STRING, column STRING, row_count BIGINT, "
    "null_count BIGINT, null_rate DOUBLE, mean DOUBLE, min DOUBLE, max DOUBLE, "
    "percentiles ARRAY<DOUBLE>, psi DOUBLE, profiled_at TIMESTAMP"
)


@dataclass(frozen=True)
class ProfileRow:
    """One row of the profile table (fields in the table's column order)."""

    view: str
    feature_ts: datetime
    snapshot_date: date
    run_id: str
    gate_id: str
    definition_version: str
    status: str
    column: str
    row_count: int
    null_count: int
    null_rate: float
    mean: float | None
    min: float | None
    max: float | None
    percentiles: list[float] | None
    psi: float | None
    profiled_at: datetime


def append_profiles(spark: SparkSession, settings: Settings, rows: Sequence[ProfileRow]) -> None:
    """Append the profile rows of one batch (one Delta commit)."""
    frame = spark.createDataFrame([astuple(row) for row in rows], PROFILE_DDL)
    append(frame, profiles_table(settings))


def passed_profiles(
    spark: SparkSession,
    settings: Settings,
    view: str,
    definition_version: str,
    since: datetime,
    before: datetime,
) -> list[ProfileRow]:
    """The rows of batches of ``view`` that passed with ``since <= feature_ts < before``."""
    from pyspark.sql import functions as F

    path = profiles_table(settings)
    if not table_exists(spark, path):
        return []
    # A plain filtered read (no shuffle): the profile rows of one view over a lookback
    # are small (columns x snapshots).
    rows = (
        spark.read.format("delta")
        .load(path)
        .select(*(field.name for field in fields(ProfileRow)))
        .filter(
            (F.col("view") == view)
            & (F.col("definition_version") == definition_version)
            & (F.col("status") == "passed")
            & (F.col("feature_ts") < F.lit(before))
            & (F.col("feature_ts") >= F.lit(since))
        )
        .collect()
    )
    return [ProfileRow(**row.asDict()) for row in rows]

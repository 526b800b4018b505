"""The daily profile table ``_skewless/profiles``: one row per view, snapshot and column.

Append-only (every gate run adds its rows, so concurrent views never conflict); each
row says whether its batch ``passed`` or was ``quarantined``. The baseline of a snapshot
is the latest earlier snapshot of the same view and definition version that passed.
Chart a feature over time with, e.g.::

    SELECT feature_ts, null_rate, mean, psi FROM delta.`<delta_root>/_skewless/profiles`
    WHERE view = 'user_transaction_stats' AND column = 'amount_avg_30d' AND status = 'passed'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.offline_store import table_exists
from feature_jobs.settings import Settings
from feature_jobs.validation.delta_append import append
from feature_jobs.validation.scan import ColumnProfile, Scan

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PROFILE_DDL = (
    "view STRING, feature_ts TIMESTAMP, snapshot_date DATE, run_id STRING, gate_id STRING, "
    "definition_version STRING, status STRING, column STRING, row_count BIGINT, "
    "null_count BIGINT, null_rate DOUBLE, mean DOUBLE, min DOUBLE, max DOUBLE, "
    "percentiles ARRAY<DOUBLE>, psi DOUBLE, profiled_at TIMESTAMP"
)
#: How far back the previous validated snapshot may be; older ones are no baseline.
BASELINE_LOOKBACK = timedelta(days=62)
#: Stands for the row count in the column list of an empty batch (no column to hang it on).
ROWS_ONLY = "__rows__"


@dataclass(frozen=True)
class Baseline:
    """The previous validated snapshot's profile."""

    feature_ts: datetime
    rows: int
    profiles: dict[str, ColumnProfile]


@dataclass(frozen=True)
class ProfileKey:
    """Which batch a profile describes."""

    view: str
    feature_ts: datetime
    snapshot_date: date
    run_id: str
    gate_id: str
    definition_version: str


def read_baseline(
    spark: SparkSession,
    settings: Settings,
    view: str,
    definition_version: str,
    feature_ts: datetime,
) -> Baseline | None:
    """The latest passed profile of ``view`` strictly before ``feature_ts``, if any."""
    from pyspark.sql import functions as F

    path = settings.system_path("profiles")
    if not table_exists(spark, path):
        return None
    # A plain filtered read (no shuffle): the profile rows of one view over the lookback
    # are small (columns x snapshots), and picking the newest in Python is instant.
    candidates = (
        spark.read.format("delta")
        .load(path)
        .filter(
            (F.col("view") == view)
            & (F.col("definition_version") == definition_version)
            & (F.col("status") == "passed")
            & (F.col("feature_ts") < F.lit(feature_ts))
            & (F.col("feature_ts") >= F.lit(feature_ts - BASELINE_LOOKBACK))
        )
        .collect()
    )
    if not candidates:
        return None
    newest = max((r["feature_ts"], r["profiled_at"], r["gate_id"]) for r in candidates)
    rows = [r for r in candidates if (r["feature_ts"], r["profiled_at"], r["gate_id"]) == newest]
    profiles = {
        r["column"]: ColumnProfile(
            column=r["column"],
            numeric=r["mean"] is not None or r["percentiles"] is not None,
            null_count=int(r["null_count"]),
            mean=r["mean"],
            min=r["min"],
            max=r["max"],
            percentiles=tuple(r["percentiles"]) if r["percentiles"] is not None else None,
        )
        for r in rows
        if r["column"] != ROWS_ONLY
    }
    return Baseline(feature_ts=rows[0]["feature_ts"], rows=int(rows[0]["row_count"]),
                    profiles=profiles)  # fmt: skip


def write_profile(
    spark: SparkSession,
    settings: Settings,
    key: ProfileKey,
    scan: Scan,
    status: str,
    psi: dict[str, float],
    profiled_at: datetime,
) -> None:
    """Append the profile of one batch (one Delta commit)."""
    profiles = list(scan.profiles.values()) or [ColumnProfile(ROWS_ONLY, False, 0)]
    rows = [
        (
            key.view,
            key.feature_ts,
            key.snapshot_date,
            key.run_id,
            key.gate_id,
            key.definition_version,
            status,
            p.column,
            scan.rows,
            p.null_count,
            p.null_rate(scan.rows),
            p.mean,
            p.min,
            p.max,
            list(p.percentiles) if p.percentiles is not None else None,
            psi.get(p.column),
            profiled_at,
        )
        for p in profiles
    ]
    append(spark.createDataFrame(rows, PROFILE_DDL), settings.system_path("profiles"))

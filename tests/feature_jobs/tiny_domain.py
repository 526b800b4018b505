"""A tiny hand-made domain for materialize tests: a few events whose answers are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from feature_jobs.definitions import Entity, Feature, FeatureView, Source

SCHEMA = {
    "tx_id": "string",
    "user_id": "long",
    "amount": "double",
    "country": "string",
    "event_ts": "timestamp",
    "ingested_ts": "timestamp",
}


NO_BATCH_CHECKS = {
    "row_count_drop_pct": False,
    "null_rate_jump": False,
    "mean_shift_pct": False,
    "psi": False,
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def tx_source(**overrides: object) -> Source:
    fields: dict[str, object] = {
        "name": "tx",
        "path": "raw/tx",
        "schema": SCHEMA,
        "timestamp_column": "event_ts",
        "ingestion_timestamp_column": "ingested_ts",
        "dedup_key": ["tx_id"],
    }
    fields.update(overrides)
    return Source(**fields)  # type: ignore[arg-type]


def user_view(source: Source | None = None, **overrides: object) -> FeatureView:
    fields: dict[str, object] = {
        "name": "user_stats",
        "entity": Entity(name="user", join_keys={"user_id": "long"}),
        "source": source or tx_source(),
        "owner": "tests",
        # Drift and volume checks compare populations; a handful of rows is not one.
        "checks": NO_BATCH_CHECKS,
        "features": [
            Feature(name="count_1d", function="count", window="1d"),
            Feature(name="count_7d", function="count", window="7d"),
            Feature(name="sum_7d", function="sum", column="amount", window="7d"),
            Feature(name="avg_7d", function="avg", column="amount", window="7d"),
            Feature(name="min_1d", function="min", column="amount", window="1d"),
            Feature(name="max_7d", function="max", column="amount", window="7d"),
            Feature(name="countries_7d", function="count_distinct", column="country", window="7d"),
            Feature(name="last_country_7d", function="last", column="country", window="7d"),
        ],
    }
    fields.update(overrides)
    return FeatureView(**fields)  # type: ignore[arg-type]


def event(
    tx_id: str,
    user_id: int,
    amount: float,
    event_ts: datetime,
    country: str = "FR",
    ingested_after: timedelta = timedelta(minutes=1),
) -> dict[str, object]:
    return {
        "tx_id": tx_id,
        "user_id": user_id,
        "amount": amount,
        "country": country,
        "event_ts": event_ts,
        "ingested_ts": event_ts + ingested_after,
    }


def write_events(data_root: Path, rows: list[dict[str, object]], name: str = "part-0") -> Path:
    """Write events as Parquet under raw/tx, timestamps as UTC instants (microseconds)."""
    folder = data_root / "raw" / "tx"
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    for column in ("event_ts", "ingested_ts"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    frame["user_id"] = frame["user_id"].astype("int64")
    path = folder / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    return path

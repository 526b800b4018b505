"""Small, valid snapshots of the demo view ``user_transaction_stats``, built by hand.

The layout follows the offline table contract: keys, features in declared order,
``feature_ts``, ``snapshot_date``, ``definition_version``, ``run_id``, ``materialized_at``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from features import user_transaction_stats

VIEW = user_transaction_stats
DAY = date(2024, 3, 1)
C = datetime(2024, 3, 2, tzinfo=UTC)  # feature_ts of DAY
NOW = datetime(2024, 3, 2, 6, tzinfo=UTC)  # the job runs at 06:00 the next morning
RUN_ID = "manual__test"
COUNTRIES = ("DE", "FR", "NL")


def ddl(**types: str) -> str:
    """The snapshot's Spark DDL, with some column types overridden (``wrong type`` faults)."""
    columns = {
        "user_id": "BIGINT",
        "txn_count_1d": "BIGINT",
        "txn_count_7d": "BIGINT",
        "amount_sum_7d": "DOUBLE",
        "amount_avg_30d": "DOUBLE",
        "amount_max_30d": "DOUBLE",
        "distinct_merchants_30d": "BIGINT",
        "last_country": "STRING",
        "feature_ts": "TIMESTAMP",
        "snapshot_date": "DATE",
        "definition_version": "STRING",
        "run_id": "STRING",
        "materialized_at": "TIMESTAMP",
    }
    columns.update(types)
    return ", ".join(f"{name} {dtype}" for name, dtype in columns.items())


def good_rows(n: int = 40, *, first_id: int = 1, feature_ts: datetime = C) -> list[dict[str, Any]]:
    """``n`` rows that pass every structural and domain rule."""
    rows = []
    for user_id in range(first_id, first_id + n):
        rows.append(
            {
                "user_id": user_id,
                "txn_count_1d": user_id % 3,
                "txn_count_7d": user_id % 3 + 2,
                "amount_sum_7d": 10.0 * user_id,
                "amount_avg_30d": 20.0 + user_id % 17,
                "amount_max_30d": 50.0 + user_id,
                "distinct_merchants_30d": 1 + user_id % 4,
                "last_country": COUNTRIES[user_id % 3],
                "feature_ts": feature_ts,
                "snapshot_date": (feature_ts - timedelta(days=1)).date(),
                "definition_version": VIEW.version,
                "run_id": RUN_ID,
                "materialized_at": NOW,
            }
        )
    return rows


def frame(spark: Any, rows: list[dict[str, Any]], schema: str | None = None) -> Any:
    """A cached DataFrame of ``rows`` (materialize caches the snapshot it validates)."""
    schema = schema or ddl()
    names = [part.split(" ")[0] for part in schema.split(", ")]
    return spark.createDataFrame([tuple(r[n] for n in names) for r in rows], schema).cache()

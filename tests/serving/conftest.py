"""A small demo warehouse for the catalog tests, built once per run with real Spark.

Forty days of events, so that every window of the last seven is full (the gate compares
drift only then); those seven days of the three demo views are materialized as three
range jobs; bad payments
land on ``BAD``, so the gate quarantines that day and the later ones whose windows hold
them, per view. The last day that passed everywhere (``PUBLISHED``) is synced to the
shared redis-server for two views; ``user_risk_signals`` is left unpublished.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feature_jobs.definitions import load_registry
from feature_jobs.demo.bad_data import inject_bad_data
from feature_jobs.demo.generator import generate
from feature_jobs.errors import SnapshotsRefused
from feature_jobs.materialize import materialize_range
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from feature_jobs.timeutil import date_range, day_start
from tests.support.redis_server import RedisServer

END = date(2026, 3, 12)
DAYS = date_range(END - timedelta(days=6), END)
BAD = END - timedelta(days=2)
PUBLISHED = BAD - timedelta(days=1)
SYNCED = ("user_transaction_stats", "merchant_transaction_stats")
#: The catalog's clock in the in-process tests: six hours after PUBLISHED's snapshot time.
NOW = day_start(PUBLISHED) + timedelta(days=1, hours=6)


@dataclass(frozen=True)
class Warehouse:
    """The built warehouse and what the gate refused per view."""

    settings: Settings
    refused: dict[str, str]  # view -> the SnapshotsRefused line


@pytest.fixture(scope="session")
def warehouse(
    spark: SparkSession, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    root = tmp_path_factory.mktemp("catalog") / "data"
    settings = Settings.from_env(
        {
            "SKEWLESS_DATA_ROOT": str(root),
            "SKEWLESS_PROJECT": f"cat{uuid.uuid4().hex[:8]}",
            "SKEWLESS_ALERT_JSONL": str(root.parent / "alerts.jsonl"),
        }
    )
    settings = dataclasses.replace(settings, redis_url=redis_server.url)
    generate(Path(root), days=40, end=END, users=80, merchants=15, seed=5)
    inject_bad_data(Path(root), BAD)
    registry = load_registry("features")
    refused = {}
    for name in sorted(registry.views):
        try:
            materialize_range(spark, settings, registry.views[name], DAYS, run_id=f"cat-{name}")
        except SnapshotsRefused as exc:
            refused[name] = str(exc)
    for name in SYNCED:
        sync(spark, settings, registry.views[name], PUBLISHED, run_id="cat-sync")
    return Warehouse(settings, refused)


def fixed_clock() -> datetime:
    return NOW

"""The invariants every reliability case ends with, and the reader that runs through faults.

1. The offline partition equals a recomputation from the sources (the brute-force
   oracle): same keys, same values, no duplicates.
2. Redis serves exactly one complete snapshot per view, equal to its Delta rows.
3. A reader running through the fault never saw a mixed or partial snapshot, nor a
   snapshot older than one it had already seen.
4. At most one Delta commit per view, date and run.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feature_jobs.definitions import FeatureView, load_registry
from feature_jobs.offline import view_table
from feature_jobs.online.connection import Client
from feature_jobs.online.keys import data_prefix
from feature_jobs.online.publish import read_live
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving_rule import Status
from feature_jobs.settings import Settings
from tests.reliability.history import USERS, oracle_snapshot, served_values, snapshot_time

REGISTRY = load_registry("tests.reliability.defs")
USER_STATS = REGISTRY.view("user_stats")
#: Every snapshot of the suite is fresh at this instant (max_age is 30 days).
READ_AT = datetime(2024, 3, 5, tzinfo=UTC)

Values = dict[int, tuple[Any, ...]]


def offline_values(spark: SparkSession, settings: Settings, view: FeatureView, day: date) -> Values:
    """``{user: values}`` of the stored snapshot of ``day``; fails on a duplicated entity."""
    rows = (
        spark.read.format("delta")
        .load(view_table(settings, view.name))
        .where(F.col("snapshot_date") == F.lit(day))
        .toPandas()
    )
    duplicated = [k for k, n in Counter(rows["user_id"]).items() if n > 1]
    assert not duplicated, f"{view.name} {day}: entities stored twice: {duplicated[:5]}"
    assert set(rows["feature_ts"].dt.tz_localize(None)) <= {snapshot_time(day).replace(tzinfo=None)}
    return served_values(rows, view)


def assert_offline_equals_recomputation(
    spark: SparkSession, settings: Settings, view: FeatureView, day: date
) -> Values:
    """Invariant 1; returns the values for the other checks."""
    stored = offline_values(spark, settings, view, day)
    expected = served_values(oracle_snapshot(settings.data_root, view, day), view)
    assert stored == expected, f"{view.name} {day}: Delta differs from the recomputation"
    return stored


def assert_redis_serves(
    settings: Settings, client: Client, view: FeatureView, day: date, expected: Values
) -> None:
    """Invariant 2: the live pointer is ``day``'s snapshot, complete, equal to ``expected``."""
    live = read_live(client, settings.project, view.name)
    assert live is not None, f"{view.name}: nothing is live"
    assert live.meta.feature_ts == snapshot_time(day)
    prefix = data_prefix(settings.project, view.name, live.meta.token)
    stored = sum(int(client.hlen(f"{prefix}{b}")) for b in range(live.meta.buckets))
    assert stored == live.meta.rows == len(expected), "the live snapshot is not complete"
    store = FeatureStore(settings, clock=lambda: READ_AT, registry=REGISTRY)
    try:
        assert read_all(store, view, sorted(expected)) == (snapshot_time(day), expected)
    finally:
        store.close()


def read_all(store: FeatureStore, view: FeatureView, users: list[int]) -> tuple[Any, Values]:
    """One online read of ``users``: (the single feature_ts served, values of present ones)."""
    refs = [f"{view.name}:{f.name}" for f in view.features]
    response = store.get_online_features(refs, [{"user_id": u} for u in users])
    times = {t for row in response.feature_ts for t in row}
    assert len(times) == 1, f"one read saw several snapshots: {times}"
    values = {
        user: tuple(row)
        for user, row, statuses in zip(users, response.values, response.statuses, strict=True)
        if statuses[0] is Status.PRESENT
    }
    return times.pop(), values


def commits_per_run(spark: SparkSession, settings: Settings, view: FeatureView) -> Counter[Any]:
    """Invariant 4's evidence: how many offline commits each (snapshot, run) made.

    Snapshots are named by the date of their ``feature_ts``; a range commit counts once
    for each of its (daily) snapshots.
    """
    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, view_table(settings, view.name)).history()
    counts: Counter[Any] = Counter()
    for row in history.select("userMetadata").collect():
        if row["userMetadata"]:
            meta = json.loads(row["userMetadata"])
            if "feature_ts" in meta:
                counts[(meta["feature_ts"][:10], meta["run_id"])] += 1
                continue
            for day in meta["snapshot_dates"]:
                feature_day = date.fromisoformat(day) + timedelta(days=1)
                counts[(feature_day.isoformat(), meta["run_id"])] += 1
    return counts


class SnapshotReader(threading.Thread):
    """Reads every user of ``user_stats`` in a loop while a fault is injected.

    Each read must be exactly one known snapshot (or nothing before the first publish)
    and never older than a snapshot read before it.
    """

    def __init__(
        self, settings: Settings, expected: dict[date, Values], allow_empty: bool = False
    ) -> None:
        super().__init__(daemon=True)
        self.allow_empty = allow_empty  # a server that lost everything serves nothing
        self.store = FeatureStore(settings, clock=lambda: READ_AT, registry=REGISTRY)
        self.by_ts = {snapshot_time(day): values for day, values in expected.items()}
        self.stop = threading.Event()
        self.seen: list[datetime] = []  # feature_ts of each read, collapsed runs
        self.reads = 0
        self.errors: list[str] = []
        self.failures = 0  # reads that failed (Redis down): allowed, never wrong data

    def run(self) -> None:
        users = list(range(USERS))
        while not self.stop.is_set():
            try:
                feature_ts, values = read_all(self.store, USER_STATS, users)
            except AssertionError as exc:
                self.errors.append(str(exc))
                continue
            except Exception:  # Redis restarting: the read fails, nothing is served wrong
                self.failures += 1
                time.sleep(0.05)
                continue
            self.reads += 1
            if feature_ts is None and self.allow_empty:
                continue
            if feature_ts not in self.by_ts:
                self.errors.append(f"unknown snapshot {feature_ts}")
            elif values != self.by_ts[feature_ts]:
                wrong = [u for u in users if values.get(u) != self.by_ts[feature_ts].get(u)]
                self.errors.append(f"snapshot {feature_ts} partial or mixed for users {wrong[:5]}")
            if self.seen and feature_ts < self.seen[-1]:
                self.errors.append(f"went back in time: {self.seen[-1]} then {feature_ts}")
            if not self.seen or self.seen[-1] != feature_ts:
                self.seen.append(feature_ts)
            time.sleep(0.02)  # two cores are shared with Spark

    def finish(self) -> None:
        """Stop, and fail on any wrong read."""
        self.stop.set()
        self.join(timeout=60)
        self.store.close()
        assert self.errors == [], self.errors[:5]
        assert self.reads > 0


def sent_alerts(settings: Settings) -> list[dict[str, Any]]:
    """The alerts written to the settings' JSON-lines channel, oldest first."""
    path = settings.alert_jsonl
    assert path is not None
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def days_seen(reader: SnapshotReader) -> list[date]:
    """The logical dates a reader saw, in order."""
    return [(ts - timedelta(days=1)).date() for ts in reader.seen]

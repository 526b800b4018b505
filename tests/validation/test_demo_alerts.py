"""The gate over the data `make demo` generates: no alert on clean data, the bad day alone.

The demo's 45 days begin with an empty store: for 29 days every view's 30-day window
still reaches before the first transaction, and weekdays, weekends and the billing run on
the 1st move the 1-day and night-time features. None of that is drift. The data and the
materialize calls are the demo's (`python -m feature_jobs demo`, its defaults and seed),
without the publishing and the training set that follow them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from feature_jobs.cli.demo_cmd import demo_days
from feature_jobs.definitions import load_registry
from feature_jobs.demo.bad_data import inject_bad_data
from feature_jobs.demo.generator import generate
from feature_jobs.errors import SnapshotsRefused
from feature_jobs.materialize import materialize_views
from feature_jobs.offline import profiles_table
from feature_jobs.settings import Settings

END = date(2026, 12, 6)
DAYS = 45  # 2026-10-23..2026-12-06, the demo's default history
NOW = datetime(2026, 12, 7, 6, tzinfo=UTC)
VIEWS = sorted(load_registry("features").views.values(), key=lambda v: v.name)
FIRST_FULL = date(2026, 11, 21)  # feature_ts 2026-11-22 - 30 days = the first event


@pytest.mark.slow
def test_the_demo_alerts_only_on_the_injected_day(
    spark: Any, alerting: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    generate(alerting.data_root, days=DAYS, end=END, users=2000, merchants=200, seed=7)
    caplog.set_level(logging.INFO, logger="skewless.validation")

    outcomes = materialize_views(spark, alerting, VIEWS, demo_days(END, DAYS), now=NOW)

    assert [o.error for o in outcomes] == [None, None, None]
    assert [len(o.results) for o in outcomes] == [45, 45, 45]
    assert not alerting.alert_jsonl.exists()  # not one alert on clean data
    for view in VIEWS:
        # The warm-up is reported, once per view, not silently skipped...
        assert (
            f"feature view {view.name} 2026-10-23..2026-11-20 (29 snapshots): batch checks "
            "skipped: warming up: the snapshot's 30d window starts before the first event "
            "of source transactions (2026-10-23T00:00:00Z); structural checks ran"
        ) in caplog.messages
    # ... and the drift of a snapshot is measured only once its baseline had full windows.
    compared = (
        spark.read.format("delta").load(profiles_table(alerting)).where("psi IS NOT NULL")
        .groupBy("view").agg({"snapshot_date": "min"}).collect()
    )  # fmt: skip
    assert {r[0]: r[1] for r in compared} == {v.name: FIRST_FULL + timedelta(days=1) for v in VIEWS}

    # The next morning's re-run of the last day with bad transactions delivered.
    inject_bad_data(alerting.data_root, END)
    again = materialize_views(spark, alerting, VIEWS, [END], now=NOW + timedelta(hours=1))

    assert all(isinstance(o.error, SnapshotsRefused) for o in again)
    alerts = [json.loads(line) for line in alerting.alert_jsonl.read_text().splitlines()]
    assert sorted((a["view"], a["snapshot_date"], a["kind"]) for a in alerts) == [
        (v.name, "2026-12-06", "validation.failed") for v in VIEWS
    ]
    for found in alerts:  # blocked by the amount rules every day runs, warm or not
        blocking = [c for c in found["checks"] if c["check"].startswith("in_range")]
        assert blocking, found["checks"]

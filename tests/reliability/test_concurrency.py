"""Two runs of the same view and date started together: one wins, the other fails clearly.

Both materialize runs (and then both syncs) start from a barrier on two driver threads
of one Spark session, as two Airflow tasks would reach the same tables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from feature_jobs.errors import LockHeld
from feature_jobs.materialize import materialize
from feature_jobs.offline import read_sync_log
from feature_jobs.online.keys import snaps_key
from feature_jobs.online.sync import sync
from tests.reliability.history import D2, D3, oracle_snapshot, served_values, snapshot_time
from tests.reliability.invariants import (
    USER_STATS,
    SnapshotReader,
    assert_offline_equals_recomputation,
    assert_redis_serves,
    commits_per_run,
    days_seen,
    offline_values,
)

pytestmark = pytest.mark.slow


def race(job: Callable[[str], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``job("a")`` and ``job("b")`` released together; their results and errors."""
    barrier = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def one(run_id: str) -> None:
        barrier.wait()
        try:
            results.append(job(run_id))
        except BaseException as exc:  # collected for the assertions
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=1200)
    return results, errors


def test_two_materializes_and_two_syncs_of_one_date(spark, warehouse, client) -> None:
    settings, view = warehouse, USER_STATS
    assert sync(spark, settings, view, D2, run_id="sync-d2").published
    expected = {
        D2: offline_values(spark, settings, view, D2),
        D3: served_values(oracle_snapshot(settings.data_root, view, D3), view),
    }

    done, failed = race(lambda run: materialize(spark, settings, view, D3, run_id=f"mat-{run}"))
    assert len(done) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], LockHeld)
    assert f"materialize of user_stats for {D3} is already running" in str(failed[0])
    winner = done[0][0].run_id
    assert_offline_equals_recomputation(spark, settings, view, D3)
    commits = commits_per_run(spark, settings, view)
    d3 = snapshot_time(D3).date().isoformat()
    assert {run: n for (day, run), n in commits.items() if day == d3} == {winner: 1}

    reader = SnapshotReader(settings, expected)
    reader.start()
    try:
        done, failed = race(lambda run: sync(spark, settings, view, D3, run_id=f"sync-{run}"))
    finally:
        reader.finish()
    assert len(done) == 1 and done[0].published, failed
    assert len(failed) == 1 and isinstance(failed[0], LockHeld)
    assert f"sync of user_stats for {D3} is already running" in str(failed[0])
    assert days_seen(reader) == [D2, D3]
    assert_redis_serves(settings, client, view, D3, expected[D3])
    # One live snapshot: the pointer names it; the registry holds no second one for D3.
    tokens = [t.decode() for t in client.zrange(snaps_key(settings.project, view.name), 0, -1)]
    assert [t for t in tokens if t.startswith(f"{snapshot_time(D3):%Y%m%dT%H%M%SZ}")] == [
        done[0].token
    ]
    runs = [r["run_id"] for r in read_sync_log(spark, settings, view.name).collect()]
    assert sorted(runs) == sorted(["sync-d2", done[0].run_id])

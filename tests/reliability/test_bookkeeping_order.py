"""Bookkeeping follows the table: no ``passed`` profile for a snapshot whose Delta commit
failed, and a lock file nobody could have written (empty, garbage) blocks no run."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from datetime import date
from pathlib import Path

import pytest
import redis
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feature_jobs.errors import LockHeld, OfflineStoreError
from feature_jobs.locks import run_lock
from feature_jobs.materialize import materialize_range
from feature_jobs.offline import locks_folder, profiles_table, view_table
from feature_jobs.settings import Settings
from tests.reliability.history import D3, snapshot_time
from tests.reliability.invariants import USER_STATS
from tests.support.redis_server import RedisServer

DAY = date(2024, 3, 1)


def _profile_statuses(spark: SparkSession, settings: Settings, day: date) -> list[str]:
    profiles = spark.read.format("delta").load(profiles_table(settings))
    rows = profiles.where(
        (F.col("view") == USER_STATS.name)
        & (F.unix_micros("feature_ts") == F.lit(int(snapshot_time(day).timestamp() * 1e6)))
    )
    return sorted({r["status"] for r in rows.select("status").collect()})


def test_failed_commit_leaves_no_passed_profile(spark: SparkSession, warehouse: Settings) -> None:
    """The data files of D3 cannot be written (its partition folder is a regular file)."""
    table = Path(view_table(warehouse, USER_STATS.name))
    blocker = table / f"snapshot_date={D3}"
    blocker.write_text("not a folder")

    with pytest.raises(OfflineStoreError) as caught:
        materialize_range(spark, warehouse, USER_STATS, [D3], run_id="blocked")

    line = str(caught.value)
    assert "\n" not in line
    assert f"{blocker} is a file, not a folder" in line
    assert "nothing was committed" in line
    assert _profile_statuses(spark, warehouse, D3) == []
    # Once the cause is gone, the same date commits and its profile follows the commit.
    blocker.unlink()
    [result] = materialize_range(spark, warehouse, USER_STATS, [D3], run_id="unblocked")
    assert result.rows > 0
    assert _profile_statuses(spark, warehouse, D3) == ["passed"]


def _lock_file(settings: Settings) -> Path:
    path = locks_folder(settings) / "materialize" / "v" / f"{DAY}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(
    "content",
    [
        "",  # the probe's case: an empty file, fresh
        '{"token": "abc", "host"',  # cut mid-record
        "[1, 2]",  # JSON, but not a record
        '{"token": "abc", "expires_at": 1e12}',  # not expired, but names no owner
    ],
)
def test_unreadable_lock_file_does_not_block(settings: Settings, content: str) -> None:
    path = _lock_file(settings)
    path.write_text(content)

    with run_lock(settings, "data", "materialize", "v", [DAY], "next") as token:
        held = json.loads(path.read_text())
        assert (held["token"], held["run_id"]) == (token, "next")
    assert not path.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == []


def test_live_lock_still_blocks(settings: Settings) -> None:
    """The stale rule does not swallow a real, live holder (this process, another token)."""
    path = _lock_file(settings)
    with run_lock(settings, "data", "materialize", "v", [DAY], "first"):
        with (
            pytest.raises(LockHeld) as caught,
            run_lock(settings, "data", "materialize", "v", [DAY], "second"),
        ):
            pass
        assert f"(run first, pid {os.getpid()} on {socket.gethostname()})" in str(caught.value)
        assert json.loads(path.read_text())["run_id"] == "first"


@pytest.mark.parametrize("content", ["", "not json", '{"token": "abc"}'])
def test_unreadable_lock_record_in_redis_does_not_block(
    settings: Settings, redis_server: RedisServer, content: str
) -> None:
    online = dataclasses.replace(settings, redis_url=redis_server.url)
    key = "{" + online.project + ":v}:lock:sync/v/" + DAY.isoformat()
    client = redis.Redis.from_url(redis_server.url)
    client.set(key, content)
    try:
        with run_lock(online, "online", "sync", "v", [DAY], "next") as token:
            assert json.loads(client.get(key) or b"")["token"] == token
        assert client.get(key) is None
    finally:
        client.close()

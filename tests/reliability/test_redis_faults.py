"""redis-server killed mid-sync, data lost before go-live, memory full: what is served stays right.

Each test runs its own redis-server (append-only file on) and injects the fault at a
chosen step of a real sync: the step is wrapped in the test process (the driver), the
server is a real process that the test kills and restarts.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from feature_jobs.errors import OnlineStoreError
from feature_jobs.offline import read_sync_log
from feature_jobs.online import publish
from feature_jobs.online.keys import data_prefix
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from tests.reliability.history import D1, D2, snapshot_time
from tests.reliability.invariants import (
    USER_STATS,
    SnapshotReader,
    assert_offline_equals_recomputation,
    assert_redis_serves,
    days_seen,
    sent_alerts,
)
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test, persisting every write to its append-only file."""
    own = RedisServer(
        tmp_path / "redis", ["--appendonly", "yes", "--appendfsync", "always"]
    ).start()
    yield own
    own.stop()


@pytest.fixture
def online(warehouse: Settings, server: RedisServer, tmp_path: Path) -> Settings:
    """The test's warehouse on its own server, alerts to a JSON-lines file."""
    return dataclasses.replace(
        warehouse, redis_url=server.url, alert_jsonl=tmp_path / "alerts.jsonl"
    )


def start_from_d1(spark, settings: Settings) -> tuple[dict, redis.Redis]:  # type: ignore[type-arg, no-untyped-def]
    """D1 live; the expected values of D1 and D2 (checked against the recomputation)."""
    expected = {day: assert_offline_equals_recomputation(spark, settings, USER_STATS, day)
                for day in (D1, D2)}  # fmt: skip
    assert sync(spark, settings, USER_STATS, D1, run_id="sync-d1").published
    return expected, redis.Redis.from_url(settings.redis_url or "")


def test_redis_killed_mid_sync_and_restarted(
    spark, online: Settings, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = online
    expected, client = start_from_d1(spark, settings)
    go_live = publish.go_live
    reader = SnapshotReader(settings, expected)
    reader.start()
    try:
        # 1. Killed after the executors wrote, restarted 0.5 s later: the go-live retries
        #    with backoff, reconnects, and the publish completes from the append-only file.
        def restart_during(*args: Any) -> publish.GoLiveResult:
            server.stop()
            threading.Timer(0.5, server.start).start()
            return go_live(*args)

        monkeypatch.setattr(publish, "go_live", restart_during)
        first = sync(spark, settings, USER_STATS, D2, run_id="restarted")
        assert first.published
        assert_redis_serves(settings, client, USER_STATS, D2, expected[D2])
    finally:
        reader.finish()
    assert days_seen(reader) == [D1, D2]
    assert sent_alerts(settings) == []
    runs = [r["run_id"] for r in read_sync_log(spark, settings, "user_stats").collect()]
    assert sorted(runs) == ["restarted", "sync-d1"]


def test_redis_down_longer_than_the_retries(
    spark, online: Settings, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = online
    expected, client = start_from_d1(spark, settings)
    go_live = publish.go_live

    def down_during(*args: Any) -> publish.GoLiveResult:
        server.stop()
        return go_live(*args)

    monkeypatch.setattr(publish, "go_live", down_during)
    reader = SnapshotReader(settings, expected)
    reader.start()
    started = time.monotonic()
    try:
        with pytest.raises(OnlineStoreError) as info:
            sync(spark, settings, USER_STATS, D2, run_id="down")
        elapsed = time.monotonic() - started
        server.start()  # back from its append-only file: the old snapshot is still live
        live = publish.read_live(client, settings.project, "user_stats")
        assert live is not None and live.meta.feature_ts == snapshot_time(D1)
        monkeypatch.setattr(publish, "go_live", go_live)
        assert sync(spark, settings, USER_STATS, D2, run_id="rerun").published
    finally:
        reader.finish()
    assert days_seen(reader) == [D1, D2] and reader.failures > 0
    message = str(info.value)
    assert f"cannot reach Redis at redis://127.0.0.1:{server.port}" in message
    assert "\n" not in message
    assert elapsed > 5.0  # it retried with backoff (JOB_RETRY: 5.5-11 s) before failing
    sent = sent_alerts(settings)
    assert [a["kind"] for a in sent] == ["sync.failed"] and sent[0]["view"] == "user_stats"
    # Meanwhile the reader saw D1 whenever the server answered, then D2 after the re-run.
    assert_redis_serves(settings, client, USER_STATS, D2, expected[D2])
    runs = [r["run_id"] for r in read_sync_log(spark, settings, "user_stats").collect()]
    assert sorted(runs) == ["rerun", "sync-d1"]


def test_lost_writes_never_go_live(
    spark, online: Settings, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bucket of the new snapshot vanishes before go-live (eviction, lagging replica)."""
    settings = online
    expected, client = start_from_d1(spark, settings)
    go_live = publish.go_live

    def lose_a_bucket(client_: Any, project: str, view: str, token: str, ttl: Any) -> Any:
        client.delete(data_prefix(project, view, token) + "0")
        return go_live(client_, project, view, token, ttl)

    monkeypatch.setattr(publish, "go_live", lose_a_bucket)
    reader = SnapshotReader(settings, expected)
    reader.start()
    try:
        with pytest.raises(OnlineStoreError, match=r"is incomplete in Redis \(\d+ of 150 entit"):
            sync(spark, settings, USER_STATS, D2, run_id="lossy")
        assert_redis_serves(settings, client, USER_STATS, D1, expected[D1])
        assert [a["kind"] for a in sent_alerts(settings)] == ["sync.failed"]
        monkeypatch.setattr(publish, "go_live", go_live)
        assert sync(spark, settings, USER_STATS, D2, run_id="rerun").published
    finally:
        reader.finish()
    assert days_seen(reader) == [D1, D2]
    assert_redis_serves(settings, client, USER_STATS, D2, expected[D2])


def test_memory_full_with_noeviction(
    spark, online: Settings, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = online
    expected, client = start_from_d1(spark, settings)
    client.config_set("maxmemory-policy", "noeviction")
    register = publish.register

    def fill_up(*args: Any) -> None:
        register(*args)
        # Memory is full from here on: the executors' writes are refused.
        client.config_set("maxmemory", int(client.info("memory")["used_memory"]))

    monkeypatch.setattr(publish, "register", fill_up)
    reader = SnapshotReader(settings, expected)
    reader.start()
    try:
        with pytest.raises(OnlineStoreError) as info:
            sync(spark, settings, USER_STATS, D2, run_id="oom")
    finally:
        reader.finish()
    message = str(info.value)
    assert "maxmemory" in message and "\n" not in message and "Traceback" not in message
    assert days_seen(reader) == [D1]
    assert_redis_serves(settings, client, USER_STATS, D1, expected[D1])
    sent = sent_alerts(settings)
    assert len(sent) == 1 and sent[0]["kind"] == "sync.failed" and "maxmemory" in sent[0]["message"]

    client.config_set("maxmemory", 0)
    monkeypatch.setattr(publish, "register", register)
    assert sync(spark, settings, USER_STATS, D2, run_id="rerun").published
    assert_redis_serves(settings, client, USER_STATS, D2, expected[D2])

"""Run locks: one holder at a time, owner-only release, takeover of dead or expired owners;
materialize and sync take theirs, and a sync failure under its lock is alerted."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
import redis

from feature_jobs.errors import LockHeld, TimeSemanticsError
from feature_jobs.locks import Where, run_lock
from feature_jobs.materialize import materialize_range
from feature_jobs.offline import locks_folder
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from tests.reliability.invariants import USER_STATS, sent_alerts

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DAY, OTHER_DAY = date(2024, 3, 1), date(2024, 3, 2)
#: The jobs below must stop at their lock (or their first check), before touching Spark.
NO_SPARK = cast("SparkSession", None)


@pytest.fixture(params=["data", "online"])
def where(request: pytest.FixtureRequest) -> Where:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def lock_settings(settings: Settings, redis_server) -> Settings:  # type: ignore[no-untyped-def]
    return dataclasses.replace(settings, redis_url=redis_server.url)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def _plant(settings: Settings, where: Where, key_day: date, record: dict[str, object]) -> None:
    """Leave a lock record as a crashed or foreign run would have left it."""
    text = json.dumps(record)
    if where == "data":
        path = locks_folder(settings) / "materialize" / "v" / f"{key_day}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    else:
        client = redis.Redis.from_url(settings.redis_url or "")
        client.set("{" + settings.project + ":v}:lock:materialize/v/" + key_day.isoformat(), text)
        client.close()


def test_second_holder_is_refused_until_release(lock_settings: Settings, where: Where) -> None:
    with run_lock(lock_settings, where, "materialize", "v", [OTHER_DAY], "first"):
        with (
            pytest.raises(LockHeld) as info,
            run_lock(lock_settings, where, "materialize", "v", [OTHER_DAY, DAY], "second"),
        ):
            pass
        message = str(info.value)
        assert "materialize of v for 2024-03-02 is already running (run first" in message
        assert "\n" not in message
        # The refused run kept nothing: DAY (taken before OTHER_DAY failed) is free again.
        with run_lock(lock_settings, where, "materialize", "v", [DAY], "third"):
            pass
    with run_lock(lock_settings, where, "materialize", "v", [OTHER_DAY], "after"):
        pass


@pytest.mark.parametrize("owner", ["dead process", "earlier run of this process"])
def test_lock_left_behind_is_taken_over(lock_settings: Settings, where: Where, owner: str) -> None:
    # A SIGKILLed driver, or a release that failed while Redis was down.
    pid = _dead_pid() if owner == "dead process" else os.getpid()
    left = {"token": "left", "host": socket.gethostname(), "pid": pid,
            "run_id": "killed", "expires_at": time.time() + 3600}  # fmt: skip
    _plant(lock_settings, where, DAY, left)
    with run_lock(lock_settings, where, "materialize", "v", [DAY], "rerun"):
        pass


def test_live_foreign_owner_blocks_until_it_expires(lock_settings: Settings, where: Where) -> None:
    foreign = {"token": "elsewhere", "host": "another-host", "pid": 1, "run_id": "remote",
               "expires_at": time.time() + 3600}  # fmt: skip
    _plant(lock_settings, where, DAY, foreign)
    with (
        pytest.raises(LockHeld, match="run remote, pid 1 on another-host"),
        run_lock(lock_settings, where, "materialize", "v", [DAY], "local"),
    ):
        pass
    if where == "data":
        foreign["expires_at"] = time.time() - 1  # the file records its own expiry
        _plant(lock_settings, where, DAY, foreign)
    else:
        client = redis.Redis.from_url(lock_settings.redis_url or "")
        client.pexpire("{" + lock_settings.project + ":v}:lock:materialize/v/2024-03-01", 1)
        time.sleep(0.05)
        client.close()
    with run_lock(lock_settings, where, "materialize", "v", [DAY], "local"):
        pass


def test_only_the_owner_releases_and_renewal_keeps_the_lock(
    lock_settings: Settings, where: Where
) -> None:
    with run_lock(lock_settings, where, "materialize", "v", [DAY], "owner", ttl_s=0.6):
        time.sleep(1.0)  # longer than the TTL: only the renewals keep it
        with (
            pytest.raises(LockHeld, match="run owner"),
            run_lock(lock_settings, where, "materialize", "v", [DAY], "intruder"),
        ):
            pass


@pytest.fixture
def alerting(lock_settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(lock_settings, alert_jsonl=tmp_path / "alerts.jsonl")


def test_materialize_and_sync_take_their_locks(alerting: Settings) -> None:
    settings, view = alerting, USER_STATS.name
    with run_lock(settings, "data", "materialize", view, [OTHER_DAY], "holder"):
        with pytest.raises(LockHeld, match=f"materialize of {view} for {OTHER_DAY} is alr"):
            materialize_range(NO_SPARK, settings, USER_STATS, [OTHER_DAY, DAY], run_id="b")
        # Every date of the range is locked, in date order: DAY was taken, then released.
        with run_lock(settings, "data", "materialize", view, [DAY], "third"):
            pass
    with (
        run_lock(settings, "online", "sync", view, [DAY], "holder"),
        pytest.raises(LockHeld, match=f"sync of {view} for {DAY} is already running"),
    ):
        sync(NO_SPARK, settings, USER_STATS, DAY, run_id="b")
    assert sent_alerts(settings) == []  # another run is doing the work: no alert


def test_sync_failure_under_its_lock_is_alerted_once(alerting: Settings) -> None:
    settings, naive = alerting, datetime(2024, 3, 2, 12)
    with pytest.raises(TimeSemanticsError, match=r"clock\(\) 2024-03-02T12:00:00 has no time"):
        sync(NO_SPARK, settings, USER_STATS, DAY, run_id="bad-clock", clock=lambda: naive)
    sent = [(a["kind"], a["view"], a["snapshot_date"], a["run_id"]) for a in sent_alerts(settings)]
    assert sent == [("sync.failed", "user_stats", "2024-03-01", "bad-clock")]
    with run_lock(settings, "online", "sync", USER_STATS.name, [DAY], "next"):
        pass  # the failed sync released its lock

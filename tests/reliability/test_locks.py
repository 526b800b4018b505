"""Run locks: one holder at a time, owner-only release, takeover of dead or expired owners."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import redis

from feature_jobs.errors import LockHeld
from feature_jobs.locks import Where, run_lock
from feature_jobs.settings import Settings

DAY, OTHER_DAY = date(2024, 3, 1), date(2024, 3, 2)


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
        path = Path(settings.system_path("locks")) / "materialize" / "v" / f"{key_day}.lock"
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

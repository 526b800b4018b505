"""The HTTP server against a restarted or frozen Redis.

* The embedded redis-server restarted (by another command, on a new port) or stopped: the
  running app follows it and serves again without being restarted.
* A frozen redis-server (SIGSTOP): each request fails in about the serving timeout, in
  parallel rather than one after the other, and ``/healthz`` answers within its budget.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from feature_jobs.online.connection import connect
from feature_jobs.online.embedded import ensure_embedded, server_dir, stop_embedded
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.app import create_app
from feature_jobs.settings import Settings
from tests.online.direct_publish import publish_rows
from tests.online.views import user_stats
from tests.support.http_server import uvicorn_in_thread
from tests.support.redis_server import RedisServer

BODY = {"features": ["user_stats:txn_count_7d"], "entities": [{"user_id": 8}]}


def _publish_today(url: str, project: str) -> None:
    # The app reads the wall clock: a snapshot of today is fresh.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    client = connect(url)
    publish_rows(client, project, user_stats, today, [{"user_id": 8, "txn_count_7d": 8}])
    client.close()


def _embedded_pid(settings: Settings) -> int:
    return int(json.loads((server_dir(settings) / "server.json").read_text())["pid"])


@pytest.fixture
def embedded(settings: Settings) -> Iterator[Settings]:
    """Settings with REDIS_URL unset (the embedded server of this test's data root)."""
    local = dataclasses.replace(settings, redis_url=None, features_module="tests.online.views")
    yield local
    stop_embedded(local)


def _served_within(http: TestClient, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        reply = http.post("/online-features", json=BODY)
        if reply.status_code == 200:
            return reply.json()["results"][0]
        assert time.monotonic() < deadline, f"still {reply.status_code}: {reply.text[:300]}"
        time.sleep(0.1)


def test_app_follows_a_restarted_embedded_redis(embedded: Settings) -> None:
    first_url = ensure_embedded(embedded)
    _publish_today(first_url, embedded.project)
    store = FeatureStore(embedded)  # as serve builds it: the URL resolved at start
    try:
        with TestClient(create_app(store)) as http:
            assert http.post("/online-features", json=BODY).json()["results"][0]["values"] == [8]

            # 1. Another command restarts the embedded server: it comes back on a new port.
            stop_embedded(embedded)
            second_url = ensure_embedded(embedded)
            assert second_url != first_url
            served = _served_within(http, 5.0)
            assert served["values"] == [8] and served["statuses"] == ["PRESENT"]
            assert http.get("/healthz").json() == {"status": "ok"}

            # 2. Stopped and left down: the app starts it again, as any command would.
            pid = _embedded_pid(embedded)
            stop_embedded(embedded)
            served = _served_within(http, 5.0)
            assert served["values"] == [8]  # from the append-only file
            assert _embedded_pid(embedded) != pid
    finally:
        store.close()


def test_frozen_redis_costs_each_request_its_timeout_in_parallel(
    settings: Settings, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    online = dataclasses.replace(
        settings, redis_url=server.url, features_module="tests.online.views"
    )
    _publish_today(server.url, online.project)
    store = FeatureStore(online, timeout=1.0)  # serve --redis-timeout 1
    assert server.process is not None
    pid = server.process.pid

    # One client per caller, made before the clock starts (a client costs an SSL context).
    clients = [httpx.Client(timeout=120) for _ in range(5)]

    def post(i: int) -> tuple[float, int, str]:
        started = time.monotonic()
        reply = clients[i].post(f"{base}/online-features", json=BODY)
        return time.monotonic() - started, reply.status_code, reply.json()["detail"]

    def health() -> tuple[float, int, str]:
        time.sleep(0.2)  # while the four reads are waiting on the frozen server
        started = time.monotonic()
        reply = clients[4].get(f"{base}/healthz")
        return time.monotonic() - started, reply.status_code, reply.json()["detail"]

    try:
        with uvicorn_in_thread(create_app(store)) as base:
            assert httpx.post(f"{base}/online-features", json=BODY).status_code == 200
            os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                with ThreadPoolExecutor(5) as pool:
                    probe = pool.submit(health)
                    reads = list(pool.map(post, range(4)))
                    health_took, health_status, health_detail = probe.result()
                wall = time.monotonic() - started
            finally:
                os.kill(pid, signal.SIGCONT)
            after = httpx.post(f"{base}/online-features", json=BODY)
    finally:
        for client in clients:
            client.close()
        store.close()
        server.stop()

    where = f"Redis at redis://127.0.0.1:{server.port}/0"
    for took, status, detail in reads:
        assert status == 503
        assert detail.startswith(f"{where} did not answer within 1 s"), detail
        assert 0.9 < took < 2.5, reads  # one timeout each, not stacked behind the others
    assert wall < 3.0, reads  # one after the other would take 4 s or more
    assert health_status == 503
    assert health_detail.startswith(f"{where} did not answer within 0.5 s"), health_detail
    assert health_took < 1.2  # its 0.5 s budget, with room for a loaded test machine
    assert after.status_code == 200 and after.json()["results"][0]["values"] == [8]

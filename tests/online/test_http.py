"""HTTP API: valid and invalid requests, 10,000-entity batches, OpenAPI, the real server."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.app import create_app
from tests.online.direct_publish import publish_rows
from tests.online.views import REGISTRY, pair_stats, user_stats
from tests.support.http_server import wait_until_healthy
from tests.support.redis_server import RedisServer

FEATURE_TS = datetime(2024, 3, 2, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def published(client, online_settings):
    users = [
        {"user_id": i, "txn_count_7d": i, "amount_sum_7d": i / 4, "last_country": "FR"}
        for i in range(0, 20_000, 2)  # even ids present, odd ids absent
    ]
    users[1]["amount_sum_7d"] = float("nan")
    publish_rows(client, online_settings.project, user_stats, FEATURE_TS, users)
    pairs = [{"left_id": "a:b", "right_id": "c", "pair_amount_7d": 1.5}]
    publish_rows(client, online_settings.project, pair_stats, FEATURE_TS, pairs)


@pytest.fixture
def http(online_settings, clock, published):
    store = FeatureStore(online_settings, clock=clock, registry=REGISTRY)
    with TestClient(create_app(store)) as test_client:
        yield test_client
    store.close()


def test_features_for_present_and_absent_entities(http):
    body = {
        "features": ["user_stats:txn_count_7d", "user_stats:last_country"],
        "entities": [{"user_id": 4}, {"user_id": 5}],
    }
    reply = http.post("/online-features", json=body)
    assert reply.status_code == 200
    assert reply.json() == {
        "features": ["user_stats:txn_count_7d", "user_stats:last_country"],
        "results": [
            {
                "entity": {"user_id": 4},
                "values": [4, "FR"],
                "statuses": ["PRESENT", "PRESENT"],
                "feature_ts": ["2024-03-02T00:00:00Z"] * 2,
            },
            {
                "entity": {"user_id": 5},
                "values": [0, "??"],
                "statuses": ["MISSING", "MISSING"],
                "feature_ts": ["2024-03-02T00:00:00Z"] * 2,
            },
        ],
    }


def test_feature_service_spanning_two_views_and_nan(http):
    entity = {"user_id": 2, "left_id": "a:b", "right_id": "c"}
    reply = http.post("/online-features", json={"feature_service": "both", "entities": [entity]})
    assert reply.status_code == 200
    assert reply.json()["results"][0]["values"] == [2, 1.5, "FR"]
    nan = http.post(
        "/online-features",
        json={"features": ["user_stats:amount_sum_7d"], "entities": [{"user_id": 2}]},
    )
    assert nan.json()["results"][0]["values"] == ["NaN"]


COUNT = ["user_stats:txn_count_7d"]
PAIR = ["pair_stats:pair_amount_7d"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"features": ["user_stats:nope"], "entities": [{"user_id": 1}]}, "no feature 'nope'"),
        ({"features": ["nope:x"], "entities": [{"user_id": 1}]}, "unknown feature view 'nope'"),
        ({"features": ["no-colon"], "entities": [{"user_id": 1}]}, "view:feature"),
        ({"feature_service": "nope", "entities": [{"user_id": 1}]}, "unknown feature service"),
        ({"features": COUNT, "entities": [{"user_id": "1"}]}, "must be an integer"),
        ({"features": COUNT, "entities": [{"user_id": 1.5}]}, "must be an integer"),
        ({"features": COUNT, "entities": [{"uid": 1}]}, "has no 'user_id'"),
        ({"features": PAIR, "entities": [{"left_id": "a", "right_id": 3}]}, "must be a string"),
        ({"entities": [{"user_id": 1}]}, "exactly one of"),
        ({"features": COUNT, "feature_service": "both", "entities": []}, "exactly one of"),
        ({"features": COUNT}, "entities"),
        ({"features": COUNT, "entities": [], "extra": 1}, "extra"),
    ],
)
def test_invalid_requests_get_a_clear_4xx(http, body, fragment):
    reply = http.post("/online-features", json=body)
    assert reply.status_code == 422
    assert fragment in str(reply.json()["detail"])


def test_body_that_is_not_json(http):
    reply = http.post(
        "/online-features", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert reply.status_code == 422


def test_ten_thousand_entities_in_one_request(http):
    entities = [{"user_id": i} for i in range(10_000)]
    reply = http.post(
        "/online-features", json={"features": ["user_stats:txn_count_7d"], "entities": entities}
    )
    assert reply.status_code == 200
    results = reply.json()["results"]
    assert len(results) == 10_000
    assert [r["values"][0] for r in results] == [i if i % 2 == 0 else 0 for i in range(10_000)]
    assert [r["statuses"][0] for r in results[:2]] == ["PRESENT", "MISSING"]
    too_many = http.post(
        "/online-features",
        json={"features": ["user_stats:txn_count_7d"], "entities": [*entities, {"user_id": 1}]},
    )
    assert too_many.status_code == 413
    assert "10001 entities" in too_many.json()["detail"] and "10000" in too_many.json()["detail"]


def test_openapi_and_healthz(http):
    spec = http.get("/openapi.json").json()
    operation = spec["paths"]["/online-features"]["post"]
    assert {"200", "413", "422", "503"} <= set(operation["responses"])
    assert "OnlineFeaturesRequest" in spec["components"]["schemas"]
    assert http.get("/healthz").json() == {"status": "ok"}


def test_redis_down_is_503(online_settings, clock, tmp_path):
    server = RedisServer(tmp_path / "short-lived").start()
    settings = dataclasses.replace(online_settings, redis_url=server.url)
    store = FeatureStore(settings, clock=clock, registry=REGISTRY)
    with TestClient(create_app(store)) as test_client:
        server.stop()
        assert test_client.get("/healthz").status_code == 503
        reply = test_client.post(
            "/online-features",
            json={"features": ["user_stats:txn_count_7d"], "entities": [{"user_id": 1}]},
        )
        assert reply.status_code == 503 and "cannot reach Redis" in reply.json()["detail"]


def test_serve_command_answers_over_real_http(online_settings, client):
    # The server reads the wall clock: publish a snapshot of today so it is fresh.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [{"user_id": 8, "txn_count_7d": 8}]
    publish_rows(client, online_settings.project, user_stats, today, rows)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SKEWLESS_DATA_ROOT": str(online_settings.data_root),
        "REDIS_URL": online_settings.redis_url,
        "SKEWLESS_PROJECT": online_settings.project,
        "SKEWLESS_FEATURES": "tests.online.views",
    }
    command = [
        sys.executable,
        "-m",
        "feature_jobs",
        "serve",
        "--port",
        str(port),
        "--max-entities",
        "5",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, process)
        body = {"features": ["user_stats:txn_count_7d"], "entities": [{"user_id": 8}]}
        reply = httpx.post(f"{base}/online-features", json=body)
        assert reply.json()["results"][0]["values"] == [8]
        assert reply.json()["results"][0]["statuses"] == ["PRESENT"]
        body["entities"] = [{"user_id": i} for i in range(6)]
        assert httpx.post(f"{base}/online-features", json=body).status_code == 413
    finally:
        process.terminate()
        process.wait(timeout=30)

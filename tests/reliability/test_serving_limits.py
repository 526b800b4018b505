"""What one HTTP request may ask for: body size, features, entities, values; duplicates
refused; no error body echoes a large input.

The body cap is tested on a real uvicorn server (a declared Content-Length is refused
before the body is sent; a chunked body is counted as it arrives); the rest through
TestClient on the default limits.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient

from feature_jobs.cli import main
from feature_jobs.online.connection import Client
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.app import create_app
from feature_jobs.settings import Settings
from tests.online.direct_publish import publish_rows
from tests.online.views import REGISTRY, user_stats
from tests.support.http_server import uvicorn_in_thread
from tests.support.redis_server import RedisServer

COUNT = "user_stats:txn_count_7d"
FOUR_MIB = 4 * 1024 * 1024  # the default --max-body-bytes


@pytest.fixture
def store(settings: Settings, redis_server: RedisServer) -> Iterator[FeatureStore]:
    online = dataclasses.replace(settings, redis_url=redis_server.url)
    own = FeatureStore(
        online, registry=REGISTRY, clock=lambda: datetime(2024, 3, 2, 12, tzinfo=UTC)
    )
    client: Client = own.client
    rows = [{"user_id": i, "txn_count_7d": i} for i in range(10)]
    publish_rows(client, online.project, user_stats, datetime(2024, 3, 2, tzinfo=UTC), rows)
    yield own
    own.close()


@pytest.fixture
def http(store: FeatureStore) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as client:
        yield client


def test_declared_body_over_the_cap_is_refused_before_it_is_sent(store: FeatureStore) -> None:
    declared = 50 * 1024 * 1024
    with uvicorn_in_thread(create_app(store)) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /online-features HTTP/1.1\r\nHost: test\r\n"
                b"Content-Type: application/json\r\n"
                + f"Content-Length: {declared}\r\n\r\n".encode()
                + b'{"features": ['  # and nothing more: the answer must not wait for it
            )
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)  # socket.timeout here: the server waits for 50 MB
                if not chunk:
                    break
                reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), reply[:300]
    assert json.loads(body)["detail"] == (
        f"request body of {declared} bytes; the limit is {FOUR_MIB} bytes: send fewer "
        "entities per request (or start serve with --max-body-bytes)"
    )


def test_chunked_body_over_the_cap_is_cut_off(store: FeatureStore) -> None:
    # Valid JSON just over 4 MiB without a Content-Length: one entity with a padding
    # column (a little over, so the unsent rest fits the socket buffers once refused).
    pad = "x" * (FOUR_MIB + 128 * 1024)
    text = json.dumps({"features": [COUNT], "entities": [{"user_id": 1, "pad": pad}]})
    chunks = [text[i : i + 65536].encode() for i in range(0, len(text), 65536)]
    with uvicorn_in_thread(create_app(store)) as base:
        try:
            reply = httpx.post(
                f"{base}/online-features",
                content=iter(chunks),
                headers={"content-type": "application/json"},
                timeout=30,
            )
        except httpx.TransportError as exc:  # the server closed while the rest was sent
            pytest.fail(f"no 413 before the connection closed: {exc!r}")
    assert reply.status_code == 413, reply.text[:300]
    assert reply.json()["detail"] == (
        f"request body of over {FOUR_MIB} bytes; the limit is {FOUR_MIB} bytes: send fewer "
        "entities per request (or start serve with --max-body-bytes)"
    )


def test_repeated_features_are_refused(http: TestClient) -> None:
    # The probe's request: one feature 300 times for 10,000 entities (a 100 MB answer).
    body = {"features": [COUNT] * 300, "entities": [{"user_id": i} for i in range(10_000)]}
    reply = http.post("/online-features", json=body)
    assert reply.status_code == 422
    assert reply.json()["detail"] == (
        f"feature {COUNT!r} is requested twice (features[0] and features[1]); ask for each "
        "feature once"
    )
    spaced = http.post(
        "/online-features", json={"features": [COUNT, f" {COUNT}"], "entities": [{"user_id": 1}]}
    )
    assert spaced.status_code == 422 and "(features[0] and features[1])" in spaced.text


def test_too_many_features_or_values_get_413(http: TestClient) -> None:
    features = [f"user_stats:f{i}" for i in range(1_001)]
    reply = http.post("/online-features", json={"features": features, "entities": [{"user_id": 1}]})
    assert reply.status_code == 413
    assert reply.json()["detail"] == (
        "1001 features in one request; the limit is 1000: split the request (or start serve "
        "with --max-features)"
    )
    # 101 features x 10,000 entities: each limit holds alone, the product does not.
    entities = [{"user_id": i} for i in range(10_000)]
    body = {"features": features[:101], "entities": entities}
    reply = http.post("/online-features", json=body)
    assert reply.status_code == 413
    assert reply.json()["detail"] == (
        "10000 entities x 101 features = 1010000 values in one request; the limit is 1000000: "
        "send fewer entities per request (or start serve with --max-values)"
    )
    ok = http.post("/online-features", json={"features": [COUNT], "entities": entities})
    assert ok.status_code == 200 and ok.json()["results"][4]["values"] == [4]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"features": [COUNT], "entities": [{"user_id": "9" * 1_000_000}]},
            "entity row 0: user_id must be an integer (long), got str "
            f"{'9' * 40!r}... (1000000 characters)",
        ),
        (
            {"features": [COUNT], "entities": [{"user_id": [1] * 100_000}]},
            "entity row 0: user_id must be an integer (long), got list "
            f"{repr([1] * 100_000)[:40]}... (300000 characters)",
        ),
        (
            {"features": ["A" * 100_000], "entities": [{"user_id": 1}]},
            "features[0] is 100000 characters long; a view:feature reference has at most 256",
        ),
        (
            {"feature_service": "A" * 100_000, "entities": [{"user_id": 1}]},
            "feature_service is 100000 characters long; a service name has at most 256",
        ),
        (
            {"features": [COUNT], "entities": "A" * 1_000_000},
            "invalid request at body.entities: Input should be a valid list; see /docs for "
            "the schema",
        ),
        (
            {"features": [COUNT], "entities": [{"user_id": 1}], "A" * 100_000: 1},
            f"invalid request at body.{'A' * 40}... (100000 characters in all): Extra inputs "
            "are not permitted; see /docs for the schema",
        ),
    ],
    ids=["long-key", "list-key", "feature", "service", "entities", "extra-field"],
)
def test_errors_never_echo_a_large_input(http: TestClient, body: dict, detail: str) -> None:  # type: ignore[type-arg]
    reply = http.post("/online-features", json=body)
    assert reply.status_code == 422
    assert reply.json() == {"detail": detail}


def test_limit_flags_are_documented_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    usage = " ".join(capsys.readouterr().out.split())
    for flag, default in [
        ("--max-body-bytes", "default 4194304 = 4 MiB"),
        ("--max-features", "default 1000"),
        ("--max-entities", "default 10000"),
        ("--max-values", "default 1000000"),
        ("--redis-timeout", "default 1"),
    ]:
        assert flag in usage and default in usage, flag
    assert main(["serve", "--max-features", "0"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: --max-features 0: give a positive whole number"
    )

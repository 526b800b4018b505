"""Benchmark: online read latency, 1 and 100 entities, through the SDK and over HTTP.

One view of 100,000 entities x 8 numeric features is published into a local
redis-server through the real publish steps (register, the executors' PartitionWriter,
go-live). Then 2,000 calls each are timed: SDK with 1 and 100 random entities, and
``POST /online-features`` on ``python -m feature_jobs serve`` (uvicorn) with a keep-alive
client. Latency is what the caller sees, from request to decoded response:

    .venv/bin/python bench/online_read_bench.py --entities 100000 --calls 2000

Figures and the machine they ran on go to bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.online_views import REGISTRY, bench_stats  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

FEATURES = [f"bench_stats:{f.name}" for f in bench_stats.features]


def publish(url: str, project: str, entities: int, feature_ts: datetime) -> None:
    """Publish ``entities`` rows of random doubles through the real publish steps."""
    from feature_jobs.online.connection import connect
    from feature_jobs.online.keys import bucket_count, data_prefix, new_token
    from feature_jobs.online.publish import SnapshotMeta, go_live, register
    from feature_jobs.online.writer import PartitionWriter

    client = connect(url)
    columns = tuple(f.name for f in bench_stats.features)
    meta = SnapshotMeta(
        token=new_token(feature_ts),
        feature_ts=feature_ts,
        snapshot_date=(feature_ts - timedelta(days=1)).date(),
        buckets=bucket_count(entities),
        columns=columns,
        types=("double",) * len(columns),
        delta_version=0,
        definition_version=bench_stats.version,
        run_id="bench",
        rows=entities,
        started_at=datetime.now(UTC),
    )
    register(client, project, bench_stats.name, meta, timedelta(days=1))
    rng = random.Random(1)
    batches = [
        pa.RecordBatch.from_pydict(
            {
                "user_id": list(range(start, min(start + 10_000, entities))),
                "definition_version": [bench_stats.version]
                * (min(start + 10_000, entities) - start),
            }
            | {
                c: [rng.random() * 1000 for _ in range(start, min(start + 10_000, entities))]
                for c in columns
            }
        )
        for start in range(0, entities, 10_000)
    ]
    writer = PartitionWriter(
        url=url,
        prefix=data_prefix(project, bench_stats.name, meta.token),
        buckets=meta.buckets,
        key_columns=("user_id",),
        value_columns=columns,
        value_types=("double",) * len(columns),
        ttl_ms=86_400_000,
        definition_version=bench_stats.version,
    )
    list(writer(iter(batches)))
    assert go_live(client, project, bench_stats.name, meta.token, timedelta(days=1)).status == "ok"
    client.close()


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1e6
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6
    return f"p50 {p50:.3f} ms  p99 {p99:.3f} ms  (max {ordered[-1] / 1e6:.2f} ms)"


def timed(
    call: Callable[[list[dict[str, int]]], object], size: int, calls: int, entities: int
) -> list[int]:
    rng = random.Random(size)
    batches = [[{"user_id": rng.randrange(entities)} for _ in range(size)] for _ in range(calls)]
    for batch in batches[:200]:  # warm-up
        call(batch)
    samples = []
    for batch in batches:
        t0 = time.perf_counter_ns()
        call(batch)
        samples.append(time.perf_counter_ns() - t0)
    return samples


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "feature_jobs", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the HTTP server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    from feature_jobs.online.store import FeatureStore
    from feature_jobs.settings import Settings

    root = Path(tempfile.mkdtemp(prefix="skewless-read-bench-"))
    server = RedisServer(root / "redis").start()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SKEWLESS_DATA_ROOT": str(root),
        "REDIS_URL": server.url,
        "SKEWLESS_PROJECT": "bench",
        "SKEWLESS_FEATURES": "bench.online_views",
    }
    settings = Settings.from_env(env)
    # Today's snapshot, so the server's wall clock finds it fresh (statuses PRESENT).
    feature_ts = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    publish(server.url, settings.project, args.entities, feature_ts)
    load_before = os.getloadavg()

    store = FeatureStore(settings, registry=REGISTRY)
    check = store.get_online_features(FEATURES, [{"user_id": 1}])
    assert check.statuses[0][0].value == "PRESENT", check.statuses

    results = {}
    for size in (1, 100):
        samples = timed(
            lambda rows: store.get_online_features(FEATURES, rows), size, args.calls, args.entities
        )
        results[f"SDK  {size:>3} entit{'y' if size == 1 else 'ies'}"] = samples

    process, port = start_server(env)
    connection = http.client.HTTPConnection("127.0.0.1", port)

    def post(rows: list[dict[str, int]]) -> object:
        body = json.dumps({"features": FEATURES, "entities": rows})
        connection.request("POST", "/online-features", body, {"Content-Type": "application/json"})
        reply = connection.getresponse()
        data = json.loads(reply.read())
        assert reply.status == 200 and data["results"][0]["statuses"][0] == "PRESENT"
        return data

    try:
        for size in (1, 100):
            samples = timed(post, size, args.calls, args.entities)
            results[f"HTTP {size:>3} entit{'y' if size == 1 else 'ies'}"] = samples
    finally:
        connection.close()
        process.terminate()
        process.wait(timeout=30)
    load_after = os.getloadavg()
    store.close()
    server.stop()
    shutil.rmtree(root, ignore_errors=True)

    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    print(
        f"workload: 1 view, {args.entities} entities x 8 doubles; {args.calls} calls each, "
        "random entities, after 200 warm-up calls"
    )
    for name, samples in results.items():
        print(f"{name}: {percentiles(samples)}")


if __name__ == "__main__":
    main()

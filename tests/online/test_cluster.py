"""Redis Cluster: sync and reads through ``redis+cluster://`` on a real 3-node cluster."""

from __future__ import annotations

import dataclasses
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from feature_jobs.online.connection import connect
from feature_jobs.online.store import FeatureStore
from feature_jobs.online.sync import sync
from feature_jobs.serving_rule import Status
from tests.online.conftest import Clock
from tests.online.offline import snapshot_ts, write_snapshot
from tests.online.views import REGISTRY, pair_stats, user_stats
from tests.support.redis_server import RedisServer, redis_server_binary

D1 = date(2024, 3, 1)


def redis_cli() -> str:
    found = shutil.which("redis-cli")
    return found or str(Path(redis_server_binary()).with_name("redis-cli"))


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is valid and free too."""
    for _ in range(200):
        port = random.randint(20000, 55000)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("cluster")
    nodes: list[RedisServer] = []
    try:
        for i in range(3):
            node = RedisServer(
                folder / f"node{i}",
                ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-node-timeout", "5000"],
            )  # fmt: skip
            node.port = cluster_port()
            nodes.append(node)  # stopped below even if it fails to start
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [redis_cli(), "--cluster", "create", *addresses, "--cluster-replicas", "0",
             "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        seed = redis.Redis(port=nodes[0].port)
        deadline = time.monotonic() + 30
        while seed.cluster("info")["cluster_state"] != "ok":
            assert time.monotonic() < deadline, "the cluster did not come up"
            time.sleep(0.2)
        yield f"redis+cluster://127.0.0.1:{nodes[0].port}"
    finally:
        for node in nodes:
            node.stop()


def test_sync_and_multi_view_reads_on_a_cluster(spark, online_settings, cluster):
    settings = dataclasses.replace(online_settings, redis_url=cluster)
    client = connect(cluster)
    assert isinstance(client, RedisCluster)
    users = [{"user_id": i, "txn_count_7d": i * 10, "last_country": "FR"} for i in range(300)]
    write_snapshot(spark, settings, user_stats, D1, users)
    pairs = [{"left_id": "a:b", "right_id": "c", "pair_amount_7d": 2.5}]
    write_snapshot(spark, settings, pair_stats, D1, pairs)
    assert sync(spark, settings, user_stats, D1).rows == 300
    assert sync(spark, settings, pair_stats, D1).rows == 1

    store = FeatureStore(
        settings, clock=Clock(snapshot_ts(D1) + timedelta(hours=1)), registry=REGISTRY
    )
    entities = [{"user_id": i, "left_id": "a:b", "right_id": "c"} for i in (0, 299, 300)]
    response = store.get_online_features("both", entities)
    assert response.values == [[0, 2.5, "FR"], [2990, 2.5, "FR"], [0, 2.5, "??"]]
    assert response.statuses[2] == [Status.MISSING, Status.PRESENT, Status.MISSING]
    store.close()
    # Each view lives in one slot (its hash tag); the two views may sit on different nodes.
    slots = {
        client.keyslot("{" + settings.project + f":{v}}}:live")
        for v in ("user_stats", "pair_stats")
    }
    assert len(slots) == 2
    client.close()

"""Scale-out: materialize, sync and a training set on a real Spark standalone cluster
(master + worker started from the pyspark installation) equal the local-mode results."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from feature_jobs.cli import main
from feature_jobs.online.connection import connect
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from feature_jobs.spark.standalone import StandaloneCluster
from tests.reliability.history import D1, D2, snapshot_time, write_spine
from tests.reliability.invariants import USER_STATS, assert_redis_serves, offline_values
from tests.reliability.processes import cli_env, start

pytestmark = pytest.mark.slow
FEATURES = "user_stats:count_7d,user_stats:sum_7d,user_stats:last_country_7d"


def spine_of(root: Path) -> Path:
    """Users 0..159 every 7th (150+ do not exist: MISSING), after each snapshot."""
    times = [snapshot_time(D1) + timedelta(hours=3), snapshot_time(D2) + timedelta(hours=9)]
    return write_spine(root / "spines" / "labels.parquet", list(range(0, 160, 7)), times)


def test_jobs_on_a_standalone_cluster_equal_local_mode(
    spark, template: Path, settings: Settings, redis_server, tmp_path: Path, monkeypatch
) -> None:
    # Local mode: the template (materialized in local[2]), a sync and a training set.
    local = dataclasses.replace(settings, redis_url=redis_server.url)
    shutil.copytree(template, local.data_root)
    assert sync(spark, local, USER_STATS, D2, run_id="local").published
    for name, value in {"SKEWLESS_DATA_ROOT": str(local.data_root),
                        "SKEWLESS_PROJECT": local.project,
                        "SKEWLESS_FEATURES": "tests.reliability.defs"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    local_out = local.data_root / "train" / "set"
    args = ["training-set", "--spine", str(spine_of(local.data_root)), "--features", FEATURES]
    assert main([*args, "--output", str(local_out)]) == 0

    # Cluster: the same raw data in a fresh root and namespace, every step on the cluster.
    remote = dataclasses.replace(
        Settings.from_env({"SKEWLESS_DATA_ROOT": str(tmp_path / "cluster-data"),
                           "SKEWLESS_PROJECT": local.project + "-c"}),
        redis_url=redis_server.url,
    )  # fmt: skip
    shutil.copytree(template / "raw", remote.data_root / "raw")
    remote_out = remote.data_root / "train" / "set"
    spine = spine_of(remote.data_root)
    steps = [
        {"args": ["materialize", "--view", "user_stats", "--start", str(D1), "--end", str(D2),
                  "--run-id", "cluster"]},
        {"args": ["sync", "--view", "user_stats", "--date", str(D2), "--run-id", "cluster"]},
        {"args": ["training-set", "--spine", str(spine), "--features", FEATURES,
                  "--output", str(remote_out)]},
    ]  # fmt: skip
    plan = tmp_path / "steps.json"
    plan.write_text(json.dumps(steps))
    log = tmp_path / "cluster-driver.log"
    with StandaloneCluster(tmp_path / "cluster") as cluster:
        env = cli_env(remote, SPARK_MASTER=cluster.master_url)
        process = start([str(plan)], env, log, module="tests.reliability.cli_sequence")
        assert process.wait(timeout=1500) == 0, log.read_text()[-4000:]
        apps = cluster.completed_apps(timeout_s=60)
    output = log.read_text()
    assert f"starting Spark ({cluster.master_url})" in output
    assert re.findall(r"^step \d exit (\d+)$", output, re.M) == ["0", "0", "0"]
    # The work ran in executors of the worker (their folders and logs are there).
    assert apps == ["skewless-materialize"]  # one driver ran all three steps
    executor_logs = list((tmp_path / "cluster" / "work").glob("app-*/*/stderr"))
    assert executor_logs, "no executor ran on the worker"

    # Same Delta rows, same online values, same training set.
    for day in (D1, D2):
        assert offline_values(spark, remote, USER_STATS, day) == offline_values(
            spark, local, USER_STATS, day
        )
    client = connect(redis_server.url)
    assert_redis_serves(
        remote, client, USER_STATS, D2, offline_values(spark, local, USER_STATS, D2)
    )
    client.close()
    manifests = [json.loads(Path(f"{out}.manifest.json").read_text())
                 for out in (local_out, remote_out)]  # fmt: skip
    assert manifests[0]["output"]["checksum"] == manifests[1]["output"]["checksum"]
    assert manifests[0]["output"]["status_counts"] == manifests[1]["output"]["status_counts"]
    # The same rows; their order is each engine's (on a local master, auto ran the local one).
    assert sorted(spark.read.parquet(str(local_out)).collect(), key=repr) == sorted(
        spark.read.parquet(str(remote_out)).collect(), key=repr
    )

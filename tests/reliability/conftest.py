"""Fixtures of the reliability suite: a warehouse built once and copied into each test."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feature_jobs.materialize import materialize_range
from feature_jobs.online.connection import Client, connect
from feature_jobs.settings import Settings
from tests.reliability.history import D1, D2, write_history
from tests.reliability.invariants import USER_STATS, assert_offline_equals_recomputation
from tests.support.redis_server import RedisServer


@pytest.fixture(scope="session")
def template(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw history up to D3, ``user_stats`` materialized (and checked) for D1 and D2."""
    root = tmp_path_factory.mktemp("reliability") / "data"
    settings = Settings.from_env({"SKEWLESS_DATA_ROOT": str(root), "SKEWLESS_PROJECT": "tmpl"})
    write_history(settings.data_root)
    # One commit per date (versions 0 and 1): the fault tests corrupt the newest one.
    for day in (D1, D2):
        materialize_range(spark, settings, USER_STATS, [day], run_id="template")
    for day in (D1, D2):
        assert_offline_equals_recomputation(spark, settings, USER_STATS, day)
    return root


@pytest.fixture
def warehouse(template: Path, settings: Settings, redis_server: RedisServer) -> Settings:
    """This test's own copy of the template, on the shared redis-server, own namespace."""
    shutil.copytree(template, settings.data_root)
    return dataclasses.replace(settings, redis_url=redis_server.url)


@pytest.fixture
def client(warehouse: Settings) -> Iterator[Client]:
    redis_client = connect(warehouse.redis_url or "")
    yield redis_client
    redis_client.close()

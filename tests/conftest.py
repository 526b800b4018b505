"""Fixtures shared by the whole suite: one real Spark session, real redis-servers."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TZ", "UTC")
os.environ.setdefault("SKEWLESS_SHUFFLE_PARTITIONS", "2")

from feature_jobs.settings import Settings
from tests.support.redis_server import RedisServer

# py4j logs "Closing down clientserver connection" from __del__ at interpreter exit, after
# pytest closed its capture streams: a harmless but alarming "Logging error" traceback.
logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """One local Spark session with Delta for the whole run (JVM start costs seconds)."""
    from feature_jobs.spark.session import build_spark

    settings = Settings.from_env({"SPARK_MASTER": "local[2]", "SKEWLESS_SHUFFLE_PARTITIONS": "2"})
    session = build_spark(settings, app_name="skewless-tests")
    yield session
    session.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a folder of this test's own, with its own Redis namespace."""
    return Settings.from_env(
        {
            "SKEWLESS_DATA_ROOT": str(tmp_path / "data"),
            "SPARK_MASTER": "local[2]",
            "SKEWLESS_PROJECT": f"t{uuid.uuid4().hex[:10]}",
            "SKEWLESS_SHUFFLE_PARTITIONS": "2",
        }
    )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server shared by tests that each use their own project namespace."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()

"""A data root copied with ``cp -a`` gets an embedded redis-server of its own: a sync from
the copy never publishes into the original's online store, and stopping the copy's server
leaves the original's running."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from pyspark.sql import SparkSession

from feature_jobs.cli import main
from feature_jobs.online.embedded import ensure_embedded, server_dir, stop_embedded
from feature_jobs.settings import Settings


@pytest.fixture
def original(warehouse: Settings) -> Iterator[Settings]:
    """The test's warehouse on its own embedded server (started), stopped at the end."""
    local = dataclasses.replace(warehouse, redis_url=None)
    ensure_embedded(local)
    yield local
    stop_embedded(local)


def _keys(url: str, project: str) -> list[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return sorted(client.scan_iter(match="{" + project + ":*"))
    finally:
        client.close()


def test_a_copied_data_root_syncs_into_its_own_server(
    spark: SparkSession,
    original: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url_a = ensure_embedded(original)
    copy = dataclasses.replace(original, data_root=tmp_path / "copy" / "data")
    copy = dataclasses.replace(copy, delta_root=str(copy.data_root / "warehouse"))
    shutil.copytree(original.data_root, copy.data_root, symlinks=True)  # what `cp -a` does
    try:
        monkeypatch.delenv("REDIS_URL", raising=False)
        for name, value in {
            "SKEWLESS_DATA_ROOT": str(copy.data_root),
            "SKEWLESS_PROJECT": copy.project,
            "SKEWLESS_FEATURES": "tests.reliability.defs",
        }.items():
            monkeypatch.setenv(name, value)
        assert main(["sync", "--view", "user_stats", "--date", "2024-03-01"]) == 0, (
            capsys.readouterr().err[-2000:]
        )

        url_b = ensure_embedded(copy)
        assert url_b != url_a
        served = redis.Redis.from_url(url_b).config_get("dir")["dir"]
        assert Path(served) == server_dir(copy).resolve()
        assert _keys(url_a, copy.project) == [], "the copy published into the original's store"
        assert any(key.endswith(b":live") for key in _keys(url_b, copy.project))

        assert stop_embedded(copy)
        assert redis.Redis.from_url(url_a).ping()  # the original's server still runs
        assert ensure_embedded(original) == url_a
    finally:
        stop_embedded(copy)

"""Table versions: the current one without a Spark job, and reads pinned to one version."""

from __future__ import annotations

from pathlib import Path

import pytest

from feature_jobs.offline import versions


def _commit(spark, path: Path, n: int) -> None:  # type: ignore[no-untyped-def]
    spark.range(n).write.format("delta").mode("append").save(str(path))


def test_current_version_follows_every_commit_and_matches_history(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from delta.tables import DeltaTable

    table = tmp_path / "t"
    _commit(spark, table, 3)
    assert versions.current_version(spark, str(table)) == 0
    for expected in (1, 2, 3):
        _commit(spark, table, 1)
        assert versions.current_version(spark, str(table)) == expected
    history = DeltaTable.forPath(spark, str(table)).history(1).first()
    assert history is not None and int(history["version"]) == 3


def test_current_version_falls_back_to_history_when_the_log_api_fails(
    spark, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "t"
    _commit(spark, table, 1)
    _commit(spark, table, 1)

    def broken(*_: object) -> int:
        raise AttributeError("DeltaLog.update changed its signature")

    monkeypatch.setattr(versions, "_from_log", broken)
    assert versions.current_version(spark, str(table)) == 1

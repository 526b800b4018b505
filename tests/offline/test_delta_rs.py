"""delta-rs pins the versions Spark's Delta pins, lists their files, and refuses what a
plain Parquet read of those files would get wrong (the local engine then defers to Spark)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feature_jobs.errors import LocalEngineRefused, TrainingSetError
from feature_jobs.offline import delta_rs, versions


def _commit(spark, path: Path, n: int, mode: str = "append") -> None:  # type: ignore[no-untyped-def]
    spark.range(n).write.format("delta").mode(mode).save(str(path))


def test_pins_and_files_equal_sparks(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "t"
    for n, mode in ((3, "append"), (2, "append"), (4, "overwrite"), (1, "append")):
        _commit(spark, table, n, mode)
        version = delta_rs.pin_version(str(table), "table t")
        assert version == versions.current_version(spark, str(table))
        listed = delta_rs.version_files(str(table), version, "table t", check_files=True)
        read = versions.read_version(spark, str(table), version, "table t")
        assert sorted(listed.files) == sorted(f.removeprefix("file:") for f in read.inputFiles())
    first = delta_rs.version_files(str(table), 0, "table t", check_files=True)
    assert len(first.files) == len(versions.read_version(spark, str(table), 0, "t").inputFiles())
    assert first.columns == frozenset({"id"})


def test_a_missing_table_and_a_vacuumed_version_read_as_spark_words_them(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TrainingSetError) as local:
        delta_rs.pin_version(str(tmp_path / "none"), "view v")
    with pytest.raises(TrainingSetError) as remote:
        versions.pin_version(spark, str(tmp_path / "none"), "view v")
    assert str(local.value) == str(remote.value)

    table = tmp_path / "t"
    _commit(spark, table, 3)
    _commit(spark, table, 3, "overwrite")
    gone = delta_rs.version_files(str(table), 0, "view v", check_files=True).files[0]
    os.remove(gone)  # what a vacuum does to a superseded version's files
    with pytest.raises(TrainingSetError, match=r"^view v: Delta version 0 of .* was vacuumed"):
        delta_rs.version_files(str(table), 0, "view v", check_files=True)
    with pytest.raises(TrainingSetError, match=r"^view v: Delta version 0 of .* was vacuumed"):
        versions.read_version(spark, str(table), 0, "view v")
    with pytest.raises(TrainingSetError, match=r"Delta version 7 of .* cannot be read"):
        delta_rs.version_files(str(table), 7, "view v", check_files=True)


def test_deletion_vectors_are_refused(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "dv"
    spark.range(10).write.format("delta").option("delta.enableDeletionVectors", "true").save(
        str(table)
    )
    spark.sql(f"DELETE FROM delta.`{table}` WHERE id < 3")
    with pytest.raises(LocalEngineRefused, match="deletion vectors - use --engine spark"):
        delta_rs.pin_version(str(table), "view dv")


def test_column_mapping_is_refused(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "cm"
    (
        spark.range(3)
        .write.format("delta")
        .option("delta.columnMapping.mode", "name")
        .option("delta.minReaderVersion", "2")
        .option("delta.minWriterVersion", "5")
        .save(str(table))
    )
    with pytest.raises(LocalEngineRefused, match="column mapping - use --engine spark"):
        delta_rs.pin_version(str(table), "view cm")


def test_a_remote_warehouse_is_refused_without_looking() -> None:
    with pytest.raises(LocalEngineRefused, match="remote warehouse"):
        delta_rs.pin_version("s3a://bucket/warehouse/offline/v", "view v")

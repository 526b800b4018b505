"""A failed Delta read or write says what happened, in one line: the corrupt or missing log
entry, the full disk, the folder that is a file, the permission, the concurrent commit -
never ``An error occurred while calling oNNN.save`` - and Spark's Java stacks stay off the
terminal unless ``--verbose``."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from feature_jobs.cli import main
from feature_jobs.errors import OfflineStoreError
from feature_jobs.materialize import materialize_range
from feature_jobs.offline import view_table
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from feature_jobs.spark.jvm_errors import delta_errors, diagnose
from tests.reliability.history import D2, D3
from tests.reliability.invariants import USER_STATS
from tests.reliability.processes import cli_env, run

#: The warehouse template holds two commits of user_stats: D1 (version 0), D2 (version 1).
LATEST = "00000000000000000001.json"
WRITING_D3 = "feature view user_stats: writing the snapshot at 2024-03-04T00:00:00+00:00 to"


def _table(settings: Settings) -> Path:
    return Path(view_table(settings, USER_STATS.name))


def _corrupt_latest_commit(settings: Settings, keep_crc: bool) -> Path:
    """Cut the newest commit file in the middle of its first line (a torn write)."""
    entry = _table(settings) / "_delta_log" / LATEST
    entry.write_text(entry.read_text()[:40])
    if not keep_crc:
        (entry.parent / f".{LATEST}.crc").unlink()
    return entry


def _materialize_d3(spark: SparkSession, settings: Settings) -> str:
    with pytest.raises(OfflineStoreError) as caught:
        materialize_range(spark, settings, USER_STATS, [D3], run_id="faulty")
    line = str(caught.value)
    assert "\n" not in line
    assert "An error occurred while calling" not in line
    return line


@pytest.mark.parametrize(
    ("keep_crc", "detail"),
    [
        (True, "its checksum (.crc) no longer matches: the file changed after it was written"),
        (False, "not valid JSON: Unexpected end-of-input"),
    ],
)
def test_corrupt_log_entry_is_named(
    spark: SparkSession, warehouse: Settings, keep_crc: bool, detail: str
) -> None:
    entry = _corrupt_latest_commit(warehouse, keep_crc)

    line = _materialize_d3(spark, warehouse)

    assert line.startswith(
        f"{WRITING_D3} {_table(warehouse)} failed, nothing was committed: the Delta log entry "
        f"{entry} is corrupt ({detail}"
    )
    assert line.endswith("); restore that file from a backup of the table")


def test_missing_log_entry_is_named_by_sync(spark: SparkSession, warehouse: Settings) -> None:
    table = _table(warehouse)
    (table / "_delta_log" / "00000000000000000000.json").unlink()

    with pytest.raises(OfflineStoreError) as caught:
        sync(spark, warehouse, USER_STATS, D2)

    assert str(caught.value) == (
        f"reading the {D2} snapshot of user_stats from {table} failed: the Delta log entry "
        f"{table}/_delta_log/00000000000000000000.json is missing; restore it from a backup "
        "of the table"
    )


def test_gap_in_the_log_names_the_missing_version(spark: SparkSession, tmp_path: Path) -> None:
    table = str(tmp_path / "t")
    frame = spark.range(4).selectExpr("id", "cast(id % 2 as int) as p")
    frame.write.format("delta").partitionBy("p").save(table)
    for _ in range(2):
        frame.where("p = 0").write.format("delta").mode("overwrite").option(
            "replaceWhere", "p = 0"
        ).save(table)
    (tmp_path / "t" / "_delta_log" / "00000000000000000001.json").unlink()

    with pytest.raises(OfflineStoreError) as caught, delta_errors("reading t failed", table):
        spark.read.format("delta").load(table).count()

    assert str(caught.value) == (
        f"reading t failed: the Delta log of {table} is missing {table}/_delta_log/"
        "00000000000000000001.json (versions 0 to 2 are there around the gap); restore it "
        "from a backup of the table - Delta cannot read past a missing commit"
    )


def test_a_file_where_a_folder_belongs_is_named(spark: SparkSession, warehouse: Settings) -> None:
    offline = _table(warehouse).parent
    shutil.rmtree(offline)
    offline.write_text("a file, not the offline folder")

    line = _materialize_d3(spark, warehouse)

    assert line == (
        f"{WRITING_D3} {_table(warehouse)} failed, nothing was committed: {offline} is a "
        "file, not a folder, so nothing can be written under it; move that file away (or "
        "point DELTA_ROOT elsewhere) and re-run"
    )


@pytest.fixture
def unwritable_table(warehouse: Settings) -> Iterator[Path]:
    """The offline table's folder refuses new entries: read-only for a normal user; as root
    (which ignores modes) the immutable attribute, which root obeys too."""
    table = _table(warehouse)
    if os.geteuid() != 0:
        table.chmod(0o555)
        yield table
        table.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: no way to make a folder unwritable")
    made = subprocess.run(["chattr", "+i", str(table)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"running as root and chattr +i is refused here: {made.stderr.strip()}")
    try:
        yield table
    finally:
        subprocess.run(["chattr", "-i", str(table)], check=True)


def test_permission_denied_is_named(
    spark: SparkSession, warehouse: Settings, unwritable_table: Path
) -> None:
    line = _materialize_d3(spark, warehouse)

    assert line == (
        f"{WRITING_D3} {unwritable_table} failed, nothing was committed: permission denied on "
        f"{unwritable_table}; give the user running the job access to it (or point DELTA_ROOT "
        "elsewhere) and re-run"
    )


def _raised_by_the_jvm(spark: SparkSession, throwable: Any) -> BaseException:
    """``throwable`` as py4j delivers it when a JVM call throws it (wrapped by the call)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    try:
        jvm.java.util.concurrent.CompletableFuture.failedFuture(throwable).get()
    except Exception as exc:
        return exc
    raise AssertionError("the JVM call did not throw")


def test_full_disk_is_named(spark: SparkSession, tmp_path: Path) -> None:
    """A full disk cannot be produced without mounting a small file system, so the JVM
    throws the exception a full disk gives (an IOException under Spark's job abort)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    full = jvm.java.io.IOException("No space left on device")
    aborted = jvm.org.apache.spark.SparkException("Job aborted due to stage failure", full)
    table = str(tmp_path / "offline" / "v")

    with pytest.raises(OfflineStoreError) as caught, delta_errors("writing v failed", table):
        raise _raised_by_the_jvm(spark, aborted)

    assert str(caught.value) == (
        f"writing v failed: no space left on device ({table}); free disk space there "
        "(or in Spark's scratch folder, spark.local.dir) and re-run"
    )


def test_concurrent_commit_says_rerun(spark: SparkSession, tmp_path: Path) -> None:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    conflict = jvm.io.delta.exceptions.ConcurrentAppendException(
        "Files were added to partition [snapshot_date=2024-03-03] by a concurrent update."
    )
    found = diagnose(_raised_by_the_jvm(spark, conflict), str(tmp_path / "v"))

    assert found is not None
    assert (found.kind, found.line) == (
        "concurrent",
        f"another job committed to {tmp_path / 'v'} at the same time "
        "(ConcurrentAppendException); re-run",
    )


def test_python_errors_pass_through(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a JVM error"), delta_errors("x", str(tmp_path)):
        raise ValueError("not a JVM error")


def test_cli_prints_one_line_and_no_java_stack(warehouse: Settings, tmp_path: Path) -> None:
    entry = _corrupt_latest_commit(warehouse, keep_crc=True)
    log = tmp_path / "cli.log"

    code = run(["materialize", "--view", "user_stats", "--date", str(D3)], cli_env(warehouse), log)

    lines = log.read_text().splitlines()
    assert code == 2
    assert not [x for x in lines if x.startswith("\tat ") or " ERROR " in x], lines[-40:]
    assert lines[-1].startswith(f"error: {WRITING_D3} {_table(warehouse)} failed, nothing was")
    assert f"the Delta log entry {entry} is corrupt (its checksum (.crc)" in lines[-1]


def test_verbose_shows_the_java_stack(
    warehouse: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = _corrupt_latest_commit(warehouse, keep_crc=True)
    for name, value in cli_env(warehouse).items():
        monkeypatch.setenv(name, value)

    code = main(["materialize", "--view", "user_stats", "--date", str(D3), "--verbose"])

    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert any(x.startswith("\tat org.apache.spark") for x in err), err
    assert err[-1].startswith("error: ") and str(entry) in err[-1]

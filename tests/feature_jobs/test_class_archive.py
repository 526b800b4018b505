"""The class-data-sharing archive: built by a real warm-up job, then mapped by a fresh JVM."""

from __future__ import annotations

from pathlib import Path

from feature_jobs.settings import Settings
from feature_jobs.spark.class_archive import archive_path, main
from tests.support.fresh_process import run_fresh

PROBE = """
from feature_jobs.settings import Settings
from feature_jobs.spark.session import build_spark
spark = build_spark(Settings.from_env(), "class-archive-probe")
print("ROWS", spark.range(10).count())
spark.stop()
"""


def linked_jars(tmp_path: Path) -> Path:
    """A jars folder of its own (the archive goes next to it), holding the real Delta jars."""
    jars = tmp_path / "jars"
    jars.mkdir()
    for jar in Settings.from_env().jars_dir.glob("*.jar"):
        (jars / jar.name).symlink_to(jar)
    return jars


def run_probe(tmp_path: Path, jars: Path, **extra: str) -> str:
    """Start a fresh driver with ``jars`` (and its archive) and run a query; its output."""
    output = run_fresh(PROBE, tmp_path / "data", SKEWLESS_JARS_DIR=str(jars), **extra)
    assert "ROWS 10" in output, output[-2000:]
    return output


def test_the_archive_is_built_once_and_a_fresh_driver_loads_spark_from_it(
    tmp_path: Path,
) -> None:
    jars = linked_jars(tmp_path)
    assert main(["--jars-dir", str(jars)]) == 0
    archive = archive_path(jars)
    assert archive.is_file() and archive.stat().st_size > 10_000_000
    built_at = archive.stat().st_mtime_ns
    assert main(["--jars-dir", str(jars)]) == 0  # present: not rebuilt
    assert archive.stat().st_mtime_ns == built_at
    assert not archive.with_suffix(".partial").exists()

    log = tmp_path / "classes.log"
    run_probe(tmp_path, jars, SKEWLESS_JVM_OPTIONS=f"-Xlog:class+load=info:file={log}")
    loaded = log.read_text()
    # "top" is the dynamic archive's layer (the JDK's own base archive is the other one).
    source = "org.apache.spark.sql.classic.SparkSession source: shared objects file (top)"
    assert source in loaded, [line for line in loaded.splitlines() if "SparkSession " in line]


def test_a_broken_archive_is_ignored_silently(tmp_path: Path) -> None:
    jars = linked_jars(tmp_path)
    archive = archive_path(jars)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"not an archive" * 1000)
    output = run_probe(tmp_path, jars)
    assert "cds" not in output.lower() and "shared" not in output.lower(), output[-2000:]

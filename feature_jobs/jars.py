"""The Delta Lake jars Spark needs, fetched once into a project folder.

Spark's own package resolution (``spark.jars.packages``) reads ``~/.m2`` first and fails
when that cache holds a POM without its jar, which is common on shared machines. So the
setup step fetches exactly the two jars Delta needs with Maven (or plain HTTPS as a
fallback) and Spark loads them from disk through ``spark.jars``: no resolution at start-up,
and the same files are shipped to cluster executors.

Run ``python -m feature_jobs.jars`` (``make setup`` does) to fetch them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import urllib.request
from importlib import metadata
from pathlib import Path

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


def delta_artifacts() -> list[tuple[str, str, str]]:
    """(group, artifact, version) of the jars matching the installed pyspark and delta-spark."""
    delta_version = metadata.version("delta-spark")
    spark_minor = ".".join(metadata.version("pyspark").split(".")[:2])
    return [
        ("io.delta", f"delta-spark_{spark_minor}_2.13", delta_version),
        ("io.delta", "delta-storage", delta_version),
    ]


def jar_paths(jars_dir: Path) -> list[Path]:
    """Where each Delta jar is expected inside ``jars_dir``."""
    return [jars_dir / f"{artifact}-{version}.jar" for _, artifact, version in delta_artifacts()]


def missing_jars(jars_dir: Path) -> list[Path]:
    """The expected jars that are not on disk yet."""
    return [path for path in jar_paths(jars_dir) if not path.is_file()]


def fetch(jars_dir: Path) -> list[Path]:
    """Download the missing Delta jars into ``jars_dir`` and return all their paths."""
    jars_dir.mkdir(parents=True, exist_ok=True)
    for group, artifact, version in delta_artifacts():
        target = jars_dir / f"{artifact}-{version}.jar"
        if target.is_file():
            continue
        print(f"fetching {group}:{artifact}:{version}", flush=True)
        if not _fetch_with_maven(group, artifact, version, jars_dir):
            _fetch_with_https(group, artifact, version, target)
    return jar_paths(jars_dir)


def _fetch_with_maven(group: str, artifact: str, version: str, jars_dir: Path) -> bool:
    mvn = shutil.which("mvn")
    if mvn is None:
        return False
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact={group}:{artifact}:{version}:jar",
            f"-DoutputDirectory={jars_dir}",
        ],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and (jars_dir / f"{artifact}-{version}.jar").is_file()


def _fetch_with_https(group: str, artifact: str, version: str, target: Path) -> None:
    url = f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"
    partial = target.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as out:
        shutil.copyfileobj(response, out)
    partial.rename(target)


if __name__ == "__main__":
    from feature_jobs.settings import Settings

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Settings.from_env().jars_dir
    for path in fetch(folder):
        print(path)

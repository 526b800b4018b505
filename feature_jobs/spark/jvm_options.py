"""Driver JVM flags for the JVMs skewless starts itself (``python -m feature_jobs``).

Every command starts a fresh JVM, and on a small machine a fresh JVM is most of the bill:
loading and verifying the classes of Spark, Delta and Parquet takes seconds, and the JIT
compilers then compete with the job for the cores. Two measured remedies (bench/README.md,
"Training sets"):

* a **class-data-sharing archive** (:mod:`feature_jobs.spark.class_archive`, built by
  ``make setup``): the classes a job loads, already parsed and verified, mapped from one
  file. Used whenever it exists; a JVM that cannot use it (another JDK, another Spark)
  ignores it silently and loads classes as usual.
* the **short-job profile**: only the C1 compiler, and the throughput (parallel)
  collector instead of G1. A short job finishes before the optimizing compiler pays for
  itself, and has no pause budget for G1's concurrent work to protect. A long job runs
  slower without C2, and the parallel collector grows its heap to the limit (a large
  training set then holds much more memory), so callers opt in per job
  (``training-set`` does for small spines; ``materialize`` and the demo for small
  sources). It applies to ``local`` masters only, where
  the driver JVM runs the tasks too.

Flags in ``SKEWLESS_JVM_OPTIONS`` come last, so they override both.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

#: C1 only speeds up a 1M-row training set and slows down a 3M-row one; the parallel
#: collector then beats the serial one (bench/training_set_bench.py, bench/README.md).
SHORT_JOB_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseParallelGC")
#: Use the archive if it matches this JVM and class path; say nothing if it does not.
_ARCHIVE_FLAGS = ("-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def driver_jvm_options(
    env: Mapping[str, str], master: str, archive: Path | None, short_job: bool = False
) -> str:
    """The extra driver JVM flags of one session.

    Args:
        env: the environment (``SKEWLESS_JVM_OPTIONS``, ``SKEWLESS_CLASS_ARCHIVE``).
        master: the Spark master; the short-job profile applies only to ``local`` ones.
        archive: the class-data-sharing archive, if one was built.
        short_job: the caller expects a job of seconds, not minutes.
    """
    flags: list[str] = []
    if archive is not None and archive.is_file() and env.get("SKEWLESS_CLASS_ARCHIVE") != "off":
        flags += [*_ARCHIVE_FLAGS, f"-XX:SharedArchiveFile={archive}"]
    if short_job and master.startswith("local"):
        flags += SHORT_JOB_FLAGS
    user = env.get("SKEWLESS_JVM_OPTIONS", "").strip()
    if user:
        flags.append(user)
    return " ".join(flags)

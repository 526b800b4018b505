"""Driver JVM flags for the JVMs skewless starts itself (``python -m feature_jobs``).

Every command starts a fresh JVM, and on a small machine a fresh JVM is most of the bill:
loading and verifying the classes of Spark, Delta and Parquet takes seconds, and the JIT
compilers then compete with the job for the cores. Two measured remedies (bench/README.md,
"Training sets"):

* a **class-data-sharing archive** (:mod:`feature_jobs.spark.class_archive`, built by
  ``make setup``): the classes a job loads, already parsed and verified, mapped from one
  file. Used whenever it exists; a JVM that cannot use it (another JDK, another Spark)
  ignores it silently and loads classes as usual.
* the **batch profile**: the throughput (parallel) collector instead of G1. A batch job
  has no pause budget, and G1's concurrent work competes with the tasks for the cores.
* the **short-job profile**: the batch profile with only the C1 compiler. A short job
  finishes before the optimizing compiler pays for itself; a long one runs slower without
  it, so callers opt in per job (``training-set`` does, for small spines).

Both profiles apply to ``local`` masters only, where the driver JVM runs the tasks too.

Flags in ``SKEWLESS_JVM_OPTIONS`` come last, so they override both.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

#: Training set, 2 cores: 3M rows 31.5-33.9 s with G1 -> 29.1-31.9 s; 1M rows (C1)
#: 21.8-21.9 s with the serial collector -> 20.1-21.4 s.
BATCH_FLAGS = ("-XX:+UseParallelGC",)
#: C1 only: a 1M-row training set 27.6-29.3 s -> 23.4-24.8 s; 3M rows 29.1-31.9 s ->
#: 32.9-33.5 s (bench/training_set_bench.py, 2 cores), hence opt-in per job.
SHORT_JOB_FLAGS = (*BATCH_FLAGS, "-XX:TieredStopAtLevel=1")
#: Use the archive if it matches this JVM and class path; say nothing if it does not.
_ARCHIVE_FLAGS = ("-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def driver_jvm_options(
    env: Mapping[str, str],
    master: str,
    archive: Path | None,
    batch: bool = False,
    short_job: bool = False,
) -> str:
    """The extra driver JVM flags of one session.

    Args:
        env: the environment (``SKEWLESS_JVM_OPTIONS``, ``SKEWLESS_CLASS_ARCHIVE``).
        master: the Spark master; the profiles apply only to ``local`` ones.
        archive: the class-data-sharing archive, if one was built.
        batch: the caller runs a batch job (the batch profile).
        short_job: the caller expects a batch job of seconds, not minutes (the short-job
            profile; implies ``batch``).
    """
    flags: list[str] = []
    if archive is not None and archive.is_file() and env.get("SKEWLESS_CLASS_ARCHIVE") != "off":
        flags += [*_ARCHIVE_FLAGS, f"-XX:SharedArchiveFile={archive}"]
    if master.startswith("local"):
        if short_job:
            flags += SHORT_JOB_FLAGS
        elif batch:
            flags += BATCH_FLAGS
    user = env.get("SKEWLESS_JVM_OPTIONS", "").strip()
    if user:
        flags.append(user)
    return " ".join(flags)

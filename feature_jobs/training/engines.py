"""Which engine builds a training set: Spark, or the local engine on one machine.

Both build the same rows from the same pinned versions (differential tests hold them
equal); they differ in where they run. ``auto`` picks the local engine when Spark would
run on this machine anyway (a ``local`` master) and the inputs fit the local engine's
memory; anything else - a cluster master, a remote warehouse, large inputs, an input
only Spark reads faithfully - goes to Spark. The scheduled DAG always asks for Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from feature_jobs.definitions import Registry
from feature_jobs.disk import size_on_disk
from feature_jobs.errors import LocalEngineRefused
from feature_jobs.offline import is_remote, table_may_exist, view_table
from feature_jobs.settings import Settings
from feature_jobs.training import manifest as manifest_io
from feature_jobs.training.outcome import TrainingSetResult
from feature_jobs.training.request import TrainingSetRequest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES: tuple[str, ...] = ("auto", "local", "spark")
#: Parquet is compressed; decoded in memory the rows take about this many times its bytes.
DECODED_PER_PARQUET_BYTE = 4


def choose(
    requested: str,
    settings: Settings,
    request: TrainingSetRequest,
    spine_in_memory: int | None = None,
) -> tuple[str, str]:
    """``(engine, why)`` for a request; ``why`` is one line for the progress output.

    Args:
        spine_in_memory: the spine's bytes when it is in memory already (the notebook
            API); otherwise its files are measured.
    """
    if requested != "auto":
        return requested, f"--engine {requested}"
    if not settings.spark_master.startswith("local"):
        return "spark", f"SPARK_MASTER is {settings.spark_master}: the cluster builds it"
    if is_remote(settings):
        return "spark", "the warehouse is remote"
    needed = input_bytes(settings, request, spine_in_memory is None) * DECODED_PER_PARQUET_BYTE
    needed += spine_in_memory or 0
    budget = settings.local_engine_memory
    if needed > budget:
        return "spark", (
            f"the inputs need about {needed / 1024**2:.0f} MB in memory, more than "
            f"SKEWLESS_LOCAL_ENGINE_MEMORY ({budget / 1024**2:.0f} MB)"
        )
    return "local", (
        f"local master, inputs of about {needed / 1024**2:.0f} MB in memory "
        f"(SKEWLESS_LOCAL_ENGINE_MEMORY {budget / 1024**2:.0f} MB)"
    )


def input_bytes(settings: Settings, request: TrainingSetRequest, with_spine: bool = True) -> int:
    """Bytes on disk of the spine and the current version of every requested view."""
    from feature_jobs.offline import delta_rs

    total = size_on_disk(request.spine) if with_spine else 0
    for view in dict.fromkeys(ref.view for ref in request.features):
        if not table_may_exist(settings, view):
            continue
        path = view_table(settings, view)
        version = delta_rs.pin_version(path, f"view {view}")
        total += delta_rs.version_files(path, version, f"view {view}", False).size_bytes
    return total


def build(
    engine: str,
    settings: Settings,
    registry: Registry,
    request: TrainingSetRequest,
    spark: Callable[[], SparkSession],
    pins: manifest_io.Pins | None = None,
    progress: Callable[[str], None] = lambda _: None,
    spine_rows: Any = None,
    in_memory: bool = False,
) -> TrainingSetResult:
    """Build with ``engine`` (auto, local or spark); ``spark`` starts a session if needed.

    ``spine_rows`` and ``in_memory`` go to the local engine (see ``build_locally``); the
    Spark engine reads the spine from its path and writes its output files.

    Raises:
        TrainingSetError: from either engine; ``LocalEngineRefused`` only when the local
            engine was asked for by name (``auto`` then uses Spark).
    """
    chosen = engine
    if engine == "auto":
        try:
            in_memory_bytes = None if spine_rows is None else int(spine_rows.nbytes)
            chosen, why = choose(engine, settings, request, in_memory_bytes)
        except LocalEngineRefused as exc:
            chosen, why = "spark", str(exc)
        progress(f"engine: {chosen} ({why})")
    if chosen == "local":
        from feature_jobs.training.local.engine import build_locally

        try:
            return build_locally(settings, registry, request, pins, progress, spine_rows, in_memory)
        except LocalEngineRefused as exc:
            if engine != "auto":
                raise
            progress(f"engine: spark ({exc})")
    from feature_jobs.training.job import build_training_set

    return build_training_set(spark(), settings, registry, request, pins, progress)

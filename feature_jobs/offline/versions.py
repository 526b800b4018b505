"""Delta table versions: which one is current, and reading exactly one of them.

A training set records the Delta version of every table it read, and a rebuild reads
those versions again. A version whose files were vacuumed (or whose log was cleaned up)
fails loudly with :class:`TrainingSetError`: it never silently falls back to newer data.

The current version comes from Delta's own log handle, not from ``DeltaTable.history(1)``
(a Spark job over the latest commit file). The handle answers by listing ``_delta_log`` -
what every Delta read does anyway - and keeps the snapshot for the read that follows, so a
sync or a training set pins its version for free. It is Delta's JVM API, not its Python
one; if a Delta release changes it, the history query is the fallback, so only speed
depends on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from feature_jobs.errors import OfflineStoreError, first_line
from feature_jobs.offline.layout import table_exists
from feature_jobs.offline.version_errors import (
    missing_table,
    unreadable_version,
    vacuumed_version,
)
from feature_jobs.spark.jvm_errors import delta_errors, diagnose

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def current_version(spark: SparkSession, path: str) -> int:
    """Latest committed version of the Delta table at ``path`` (which must exist)."""
    try:
        return _from_log(spark, path)
    except Exception:  # py4j raises several error types when a JVM signature changed
        return _from_history(spark, path)


def pin_version(spark: SparkSession, path: str, what: str) -> int:
    """The current version of the Delta table at ``path``, for a build to read and record.

    Raises:
        TrainingSetError: there is no Delta table at ``path``.
    """
    if not table_exists(spark, path):
        raise missing_table(what, path)
    with delta_errors(f"{what}: reading the current version of {path} failed", path):
        return current_version(spark, path)


def read_version(
    spark: SparkSession, path: str, version: int, what: str, check_files: bool = True
) -> DataFrame:
    """The Delta table at ``path`` as of ``version``.

    Args:
        check_files: verify every data file of that version still exists (a vacuum
            removes the files of superseded versions while their log entries remain).

    Raises:
        TrainingSetError: the version is gone (log cleaned up, or files vacuumed).
    """
    try:
        with _quiet_query_errors():
            df = spark.read.format("delta").option("versionAsOf", version).load(path)
            missing = _missing_files(spark, df.inputFiles()) if check_files else []
    except Exception as exc:  # Spark raises several JVM-backed exception types here
        found = diagnose(exc, path)
        # A named cause, not a vacuum (a missing log entry may be the log's clean-up).
        if found is not None and found.kind not in ("other", "missing_log"):
            raise OfflineStoreError(
                f"{what}: Delta version {version} of {path} cannot be read: {found.line}; "
                "nothing was written"
            ) from exc
        cause = found.line if found else first_line(exc)
        raise unreadable_version(what, path, version, cause) from None
    if missing:
        raise vacuumed_version(what, path, version, missing)
    return df


@contextmanager
def _quiet_query_errors() -> Iterator[None]:
    # PySpark logs a multi-line JSON record for some analysis errors before raising them;
    # the error is re-raised here as one line, so the record would only be noise.
    # PySpark's own getLogger: a plain logging.getLogger would create these loggers as
    # plain Loggers, and every later Spark error in the process would then fail inside
    # PySpark's logging call ("unexpected keyword argument 'errorClass'").
    from pyspark.logger import PySparkLogger

    loggers = [
        PySparkLogger.getLogger(n) for n in ("SQLQueryContextLogger", "DataFrameQueryContextLogger")
    ]
    previous = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        yield
    finally:
        for logger, was in zip(loggers, previous, strict=True):
            logger.disabled = was


def _missing_files(spark: SparkSession, files: list[str]) -> list[str]:
    # Checked through Hadoop's FileSystem so s3a:// tables work the same as local ones.
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[union-attr]
    missing = []
    for uri in files:
        path = jvm.org.apache.hadoop.fs.Path(uri)
        if not path.getFileSystem(conf).exists(path):
            missing.append(uri)
    return missing


def _from_log(spark: SparkSession, path: str) -> int:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    none = jvm.scala.Option.empty()
    # update(isAsync, lastCheckpointHint, catalogTable): list the log, refresh the snapshot.
    version = int(log.update(False, none, none).version())
    if version < 0:  # an empty log directory: no commit yet
        raise ValueError(f"no commit in {path}")
    return version


def _from_history(spark: SparkSession, path: str) -> int:
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).history(1).select("version").first()
    assert row is not None  # a Delta table has at least one commit
    return int(row[0])

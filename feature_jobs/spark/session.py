"""Build the SparkSession every skewless job uses: UTC, Delta, quiet logs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from feature_jobs.errors import ConfigError
from feature_jobs.jars import jar_paths, missing_jars
from feature_jobs.settings import Settings
from feature_jobs.spark import JVM_LOG, SPARK_LOG_LEVEL_ENV
from feature_jobs.spark.class_archive import archive_path
from feature_jobs.spark.jvm_options import driver_jvm_options

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")


def build_spark(
    settings: Settings, app_name: str = "skewless", short_job: bool = False
) -> SparkSession:
    """Create (or reuse) the SparkSession configured for Delta Lake and UTC.

    The session time zone and the JVM default time zone are both UTC, so no timestamp is
    ever rendered or parsed in the machine's local zone.

    Args:
        short_job: the caller expects seconds of work, not minutes: a JVM started here
            uses the short-job profile (:mod:`feature_jobs.spark.jvm_options`).
    """
    from pyspark.sql import SparkSession

    missing = missing_jars(settings.jars_dir)
    if missing:
        raise ConfigError(
            f"Delta Lake jars are missing from {settings.jars_dir} "
            f"({', '.join(p.name for p in missing)}); run `make setup` "
            "or `python -m feature_jobs.jars`"
        )
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", _python()))
    java_opts = f"-Duser.timezone=UTC -Dlog4j.configurationFile=file:{LOG4J_CONFIG}"
    archive = archive_path(settings.jars_dir)
    extra = driver_jvm_options(os.environ, settings.spark_master, archive, short_job)
    driver_opts = f"{java_opts} {extra}"
    builder = (
        SparkSession.builder.master(settings.spark_master)
        .appName(app_name)
        .config("spark.jars", ",".join(str(p) for p in jar_paths(settings.jars_dir)))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config(
            "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", driver_opts.strip())
        .config("spark.executor.extraJavaOptions", java_opts)
        .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
        .config("spark.default.parallelism", str(settings.shuffle_partitions))
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.sources.partitionOverwriteMode", "static")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", os.environ.get("SKEWLESS_SPARK_UI", "false"))
        # Naive Parquet timestamps are read as TIMESTAMP_NTZ so the source check can see
        # them and refuse (or convert) explicitly, instead of Spark shifting them.
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        .config("spark.driver.bindAddress", os.environ.get("SPARK_DRIVER_BIND", "127.0.0.1"))
        .config("spark.driver.host", os.environ.get("SPARK_DRIVER_HOST", "127.0.0.1"))
    )
    memory = os.environ.get("SKEWLESS_DRIVER_MEMORY")
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    level = os.environ.get(SPARK_LOG_LEVEL_ENV) or "ERROR"
    if level == "OFF":
        _launch_quietly(builder, settings.data_root / JVM_LOG)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(level)
    return spark


def _launch_quietly(builder: SparkSession.Builder, log: Path) -> None:
    """Start the driver JVM with its console output appended to ``log``.

    The JDK ("Using incubator modules") and Spark ("Setting default log level") print
    before any log level can be set, so the only way to keep them off the terminal is
    the JVM's own stderr. Nothing is done when a JVM already runs in this process, or
    when spark-submit started this process (it owns the JVM and its output).
    """
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None or "PYSPARK_GATEWAY_PORT" in os.environ:
        return
    conf = SparkConf(loadDefaults=False)
    # What getOrCreate would pass spark-submit.
    conf.setAll([(key, str(value)) for key, value in builder._options.items()])
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        gateway = launch_gateway(conf, popen_kwargs={"stdout": out, "stderr": out})
    SparkContext._ensure_initialized(gateway=gateway, conf=conf)


def _python() -> str:
    import sys

    return sys.executable

"""Pieces several subcommands share: loading definitions, starting Spark, printing."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView, Registry, load_registry
from feature_jobs.redaction import redact_text
from feature_jobs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def say(message: str) -> None:
    """Progress and summaries go to stdout, flushed so logs show them as they happen."""
    print(redact_text(message), flush=True)


def registry(settings: Settings) -> Registry:
    """The definitions named by ``SKEWLESS_FEATURES``."""
    return load_registry(settings.features_module)


def selected_views(settings: Settings, names: list[str] | None) -> list[FeatureView]:
    """The views named on the command line, or every view when none is named."""
    reg = registry(settings)
    if not names:
        return [reg.views[name] for name in sorted(reg.views)]
    return [reg.view(name) for name in names]


def start_spark(settings: Settings, app_name: str, short_job: bool = False) -> SparkSession:
    """Start Spark, telling the user why there is a pause.

    Args:
        short_job: seconds of work are expected (see ``build_spark``).
    """
    from feature_jobs.spark.session import build_spark

    started = time.monotonic()
    print(f"starting Spark ({settings.spark_master})...", end="", file=sys.stderr, flush=True)
    try:
        spark = build_spark(settings, app_name=app_name, short_job=short_job)
    finally:
        print(f" {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
    return spark

"""Where the offline store keeps its Delta tables under ``DELTA_ROOT``.

* ``offline/<view>``: every snapshot of a feature view, partitioned by ``snapshot_date``.
* ``_skewless/sync_log``, ``_skewless/profiles``, ``_skewless/quarantine``,
  ``_skewless/quarantine_rows``: skewless' own bookkeeping tables.
* ``_skewless/locks``: the run-lock files of a local warehouse (not a Delta table).

Nothing outside :mod:`feature_jobs.offline` builds these locations: callers ask here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from feature_jobs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def views_folder(settings: Settings) -> str:
    """The folder holding one Delta table per feature view."""
    return f"{settings.delta_root}/offline"


def view_table(settings: Settings, view: str) -> str:
    """The Delta table holding the full snapshot history of feature view ``view``."""
    return f"{views_folder(settings)}/{view}"


def sync_log_table(settings: Settings) -> str:
    """The sync log: one row per publish to the online store."""
    return _bookkeeping(settings, "sync_log")


def profiles_table(settings: Settings) -> str:
    """The profiles of every validated batch."""
    return _bookkeeping(settings, "profiles")


def quarantine_table(settings: Settings) -> str:
    """The validation reports of batches that tripped a check."""
    return _bookkeeping(settings, "quarantine")


def quarantine_rows_table(settings: Settings) -> str:
    """The rows of refused batches, as JSON."""
    return _bookkeeping(settings, "quarantine_rows")


def locks_folder(settings: Settings) -> Path:
    """The folder of run-lock files (meaningful for a local warehouse only)."""
    return Path(_bookkeeping(settings, "locks"))


def is_remote(settings: Settings) -> bool:
    """True when the warehouse is a URI (``s3a://...``), not a local folder."""
    return "://" in settings.delta_root


def table_may_exist(settings: Settings, view: str) -> bool:
    """False only when the view surely has no table yet (looked up on disk, without Spark).

    A remote warehouse cannot be looked at without Spark, so there the answer is True.
    """
    return is_remote(settings) or (Path(view_table(settings, view)) / "_delta_log").is_dir()


def table_exists(spark: SparkSession, path: str) -> bool:
    """True when ``path`` holds a Delta table (checked on disk first to skip the JVM call)."""
    if "://" not in path:
        return (Path(path) / "_delta_log").is_dir()
    from delta.tables import DeltaTable

    return bool(DeltaTable.isDeltaTable(spark, path))


def _bookkeeping(settings: Settings, table: str) -> str:
    return f"{settings.delta_root}/_skewless/{table}"

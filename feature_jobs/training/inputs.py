"""Pinning a build's inputs: which Delta version of which table it reads.

Everything a training set reads is read at an explicit Delta version, recorded in the
manifest: a rebuild reads the same versions again, and later writes cannot leak in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from feature_jobs.errors import TrainingSetError
from feature_jobs.offline import pin_version, read_version, sync_log_table, view_table
from feature_jobs.settings import Settings
from feature_jobs.training.as_known import publications
from feature_jobs.training.manifest import Pins
from feature_jobs.training.publications import Publication
from feature_jobs.training.request import TrainingSetRequest, ViewRequest

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class PinnedVersions:
    """Which Delta versions a build reads (what its manifest records), whichever engine."""

    mode: str
    offline: dict[str, tuple[str, int]]  # view -> (path, version) read (event-time)
    sync_log: tuple[str, int] | None  # (path, version) read (as-known)
    publications: dict[str, list[Publication]]

    def describe(self) -> str:
        """One progress line naming what was pinned."""
        if self.sync_log is not None:
            pubs = sum(len(p) for p in self.publications.values())
            return f"sync log version {self.sync_log[1]}, {pubs} publication(s)"
        return ", ".join(f"{view}@v{version}" for view, (_, version) in self.offline.items())


@dataclass
class PinnedInputs(PinnedVersions):
    """The pinned inputs of a Spark build, and a reader of the tables at their versions."""

    latest_reads: list[tuple[ViewRequest, DataFrame]]  # what a naive join would read
    version_reader: Callable[[str, int], DataFrame]  # (view, version) -> its table then


def pin_inputs(
    spark: SparkSession,
    settings: Settings,
    request: TrainingSetRequest,
    views: list[ViewRequest],
    pins: Pins | None,
) -> PinnedInputs:
    """Find (or, with ``pins``, reuse) the Delta versions a build reads.

    Event-time mode reads each view's offline table at its current version (or the pinned
    one). As-known mode reads the sync log at its current (or pinned) version, and each
    view's publications from it; their offline versions are read later, on demand.
    """
    cache: dict[tuple[str, int], DataFrame] = {}
    # The version just found current cannot have been vacuumed; pinned (rebuild) and
    # published (as-known) versions may have been, so their files are checked.
    check_files = pins is not None or request.mode == "as-known"

    def reader(view: str, version: int) -> DataFrame:
        path = view_table(settings, view)
        if (path, version) not in cache:
            cache[(path, version)] = read_version(
                spark, path, version, f"view {view}", check_files=check_files
            )
        return cache[(path, version)]

    offline: dict[str, tuple[str, int]] = {}
    latest: list[tuple[ViewRequest, DataFrame]] = []
    for view in views:
        name, path = view.view.name, view_table(settings, view.view.name)
        if request.mode == "event-time":
            version = pins.view_versions[name] if pins else pin_version(spark, path, f"view {name}")
            offline[name] = (path, version)
            latest.append((view, reader(name, version)))
        else:
            try:
                version = pin_version(spark, path, f"view {name}")
            except TrainingSetError:
                continue  # never materialized: no leakage to count for it
            latest.append((view, read_version(spark, path, version, name, check_files=False)))
    sync_log = None
    pubs: dict[str, list[Publication]] = {}
    if request.mode == "as-known":
        path = sync_log_table(settings)
        if pins is not None and pins.sync_log_version is not None:
            version = pins.sync_log_version
        else:
            version = pin_version(spark, path, "sync log (as-known mode needs published snapshots)")
        log = read_version(spark, path, version, "sync log")
        sync_log = (path, version)
        pubs = {v.view.name: publications(log, settings.project, v.view.name) for v in views}
    return PinnedInputs(request.mode, offline, sync_log, pubs, latest, reader)

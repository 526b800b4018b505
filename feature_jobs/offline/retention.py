"""Guarded VACUUM: never delete the files of a Delta version a training manifest pins.

A training set's manifest pins the version of every offline table it read, and a rebuild
reads exactly those versions (time travel). ``VACUUM RETAIN H HOURS`` deletes the data
files that commits older than ``now - H`` removed, so a version V stays readable as long
as the commit after it (the first that can remove V's files) is younger than the horizon.
:func:`guarded_vacuum` reads every manifest under the data root (training sets may only
be written there), works out the horizon each pinned version needs, and refuses a
retention below it, naming the manifest. Without the guard the rebuild would fail
loudly later (``versions.read_version`` checks that every file still exists); with it,
the loss is refused up front.

Retention settings the project relies on (see docs/scaling.md): Delta's
``delta.deletedFileRetentionDuration`` (default 7 days) is the default ``--retain-hours``;
``delta.logRetentionDuration`` (default 30 days) bounds how far back any time travel can
go whatever VACUUM does, so manifests older than it cannot be rebuilt.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import VacuumRefused, first_line
from feature_jobs.offline.layout import view_table
from feature_jobs.settings import Settings
from feature_jobs.spark.scoped_conf import scoped_conf
from feature_jobs.timeutil import require_utc, utc_now

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Delta's default ``delta.deletedFileRetentionDuration``: 7 days.
DEFAULT_RETAIN_HOURS = 168.0
#: The Spark setting that sizes Delta's file listing during VACUUM.
_LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
MANIFEST_SUFFIX = ".manifest.json"
#: Added to the age of a pinned version's successor: commit times are storage clocks.
SAFETY_MARGIN_HOURS = 1.0


@dataclass(frozen=True)
class Pin:
    """A Delta version of a view's offline table that a manifest depends on."""

    manifest: Path
    version: int


@dataclass(frozen=True)
class VacuumPlan:
    """What a guarded vacuum would do.

    Attributes:
        retain_hours: the retention asked for.
        required_hours: the smallest retention that keeps every pinned version readable.
        binding: the pin that sets ``required_hours`` (None when no pin constrains it).
        pins: every pin found for the view.
    """

    retain_hours: float
    required_hours: float
    binding: Pin | None
    pins: tuple[Pin, ...]


def manifest_pins(settings: Settings, view: FeatureView) -> list[Pin]:
    """Versions of ``offline/<view>`` pinned by the manifests under the data root."""
    table = view_table(settings, view.name)
    pins = []
    for manifest in _manifests(settings.data_root, settings.delta_root):
        try:
            entry = json.loads(manifest.read_text(encoding="utf-8"))["views"][view.name]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a manifest of this view
        if entry.get("offline_path", table) != table:
            continue
        versions = {int(v) for v in entry.get("published_delta_versions", [])}
        if "delta_version" in entry:
            versions.add(int(entry["delta_version"]))
        pins += [Pin(manifest, v) for v in sorted(versions)]
    return pins


def plan_vacuum(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    retain_hours: float,
    now: datetime | None = None,
) -> VacuumPlan:
    """Work out the retention the pinned versions need (no file is touched)."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    now = require_utc(now or utc_now(), "now")
    pins = manifest_pins(settings, view)
    history = DeltaTable.forPath(spark, view_table(settings, view.name)).history()
    commit_us = {
        int(r["version"]): int(r["us"])
        for r in history.select("version", F.unix_micros("timestamp").alias("us")).collect()
    }
    now_us = int(now.timestamp() * 1_000_000)
    required, binding = 0.0, None
    for pin in pins:
        # Files of version V are first removed by commit V+1: it must stay in the horizon.
        successor = commit_us.get(pin.version + 1)
        if successor is None:
            continue
        hours = max(0.0, (now_us - successor) / 3_600_000_000) + SAFETY_MARGIN_HOURS
        if binding is None or hours > required:
            required, binding = hours, pin
    return VacuumPlan(retain_hours, required, binding, tuple(pins))


def guarded_vacuum(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    retain_hours: float = DEFAULT_RETAIN_HOURS,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    listing_tasks: int | None = None,
) -> VacuumPlan:
    """VACUUM ``offline/<view>`` unless it would delete files a manifest still needs.

    Args:
        listing_tasks: how many Spark tasks list the table's files (default: the shuffle
            partitions; Delta's own default, 10,000, is what bench/vacuum_bench.py compares).

    Raises:
        VacuumRefused: ``retain_hours`` is below what a pinned version needs, or Delta
            refused the retention (below its own 7-day safety check).
    """
    plan = plan_vacuum(spark, settings, view, retain_hours, now)
    if plan.binding is not None and retain_hours < plan.required_hours:
        need = math.ceil(plan.required_hours * 100) / 100
        raise VacuumRefused(
            f"vacuum of offline/{view.name} with --retain-hours {retain_hours:g} would delete "
            f"files of Delta version {plan.binding.version}, pinned by {plan.binding.manifest}; "
            f"use --retain-hours {need:g} or more, or delete that training set and its manifest"
        )
    if dry_run:
        return plan
    from delta.tables import DeltaTable

    # Delta lists the table's files in as many tasks as this setting says, 10,000 by
    # default: 50-66 s for a small table on 2 cores, 4-5 s with 4 (bench/vacuum_bench.py).
    listing = {_LISTING_PARALLELISM: str(listing_tasks or settings.shuffle_partitions)}
    try:
        with scoped_conf(spark, listing):
            DeltaTable.forPath(spark, view_table(settings, view.name)).vacuum(retain_hours)
    except Exception as exc:  # Delta's retention check raises a JVM IllegalArgumentException
        raise VacuumRefused(
            f"Delta refused to vacuum offline/{view.name}: {first_line(exc)}"
        ) from None
    return plan


def _manifests(data_root: Path, delta_root: str) -> list[Path]:
    """Every ``*.manifest.json`` under the data root, not descending into Delta tables."""
    skip = Path(delta_root).resolve() if "://" not in delta_root else None
    found = []
    for folder, dirs, files in os.walk(data_root):
        here = Path(folder)
        dirs[:] = [
            d
            for d in dirs
            if (here / d).resolve() != skip and not (here / d / "_delta_log").is_dir()
        ]
        found += [here / f for f in files if f.endswith(MANIFEST_SUFFIX)]
    return sorted(found)

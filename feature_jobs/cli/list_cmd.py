"""``list``: every feature view with its version, owner, cadence, max age, last date."""

from __future__ import annotations

import argparse

from feature_jobs.cli.common import registry, say, start_spark
from feature_jobs.definitions.types import format_duration
from feature_jobs.offline import last_snapshot_date, table_may_exist
from feature_jobs.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "list",
        help="list feature views with version, owner, cadence, max age, last date",
        description="List every feature view of the definitions module with its version "
        "hash, owner, cadence, max age, stale policy and last materialized date.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    reg = registry(settings)
    views = [reg.views[name] for name in sorted(reg.views)]
    # Spark starts only when there is a table to read: listing fresh definitions is instant.
    spark = None
    if any(table_may_exist(settings, v.name) for v in views):
        spark = start_spark(settings, "skewless-list")
    header = ("view", "version", "owner", "cadence", "max_age", "on_stale", "features", "last_date")
    rows = [header]
    for view in views:
        last = last_snapshot_date(spark, settings, view) if spark is not None else None
        rows.append(
            (
                view.name,
                view.version,
                view.owner,
                view.cadence,
                format_duration(view.max_age_delta),
                view.on_stale,
                str(len(view.features)),
                str(last) if last else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0

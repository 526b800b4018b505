"""``sync``: publish the snapshot of a date to the online store (atomically per view)."""

from __future__ import annotations

import argparse

from feature_jobs.cli.common import selected_views, start_spark
from feature_jobs.cli.progress import StepProgress
from feature_jobs.offline import latest_snapshot_date
from feature_jobs.online.sync import sync
from feature_jobs.run_ids import checked_run_id
from feature_jobs.settings import Settings
from feature_jobs.timeutil import parse_date


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "sync",
        help="publish a date's snapshot of feature views to Redis",
        description="Publish the snapshot of each view for logical date D from Delta to "
        "Redis. Readers switch from the old snapshot to the new one in one atomic step; an "
        "older date never replaces a newer live one (a backfill leaves serving alone). All "
        "views when --view is absent; each view's latest materialized date when --date is "
        "absent.",
    )
    parser.add_argument("--view", action="append", help="view name (repeatable)")
    parser.add_argument("--date", help="logical date YYYY-MM-DD (default: latest materialized)")
    parser.add_argument("--run-id", help="run id recorded in the sync log")
    parser.add_argument(
        "--force",
        action="store_true",
        help="publish even a snapshot with under half the entities of the live one",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    views = selected_views(settings, args.view)
    day = parse_date(args.date) if args.date else None
    checked_run_id(args.run_id)
    spark = start_spark(settings, "skewless-sync")
    step = StepProgress(2 * len(views))  # per view: its date found, its outcome
    for view in views:
        target = day or latest_snapshot_date(spark, settings, view)
        step(f"syncing {view.name} {target}...")
        result = sync(spark, settings, view, target, run_id=args.run_id, force=args.force)
        if result.published:
            step(
                f"{view.name} {target}: {result.rows} entities live "
                f"(feature_ts {result.feature_ts.isoformat()}, table version "
                f"{result.delta_version}) in {result.seconds:.1f}s"
            )
        else:
            step(f"{view.name} {target}: not published: {result.reason}")
    return 0

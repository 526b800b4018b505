"""``materialize``: compute, validate and commit snapshots for a date or a date range."""

from __future__ import annotations

import argparse
import logging
from datetime import date

from feature_jobs.cli.common import say, selected_views, start_spark
from feature_jobs.errors import UnsafeInputError
from feature_jobs.materialize import materialize_range
from feature_jobs.settings import Settings
from feature_jobs.timeutil import date_range, parse_date


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "materialize",
        help="compute snapshots of feature views into Delta (validated first)",
        description="Compute the snapshot of each view for a logical date D (feature_ts = "
        "D+1 00:00 UTC, from events before it), validate it, and replace that date's "
        "snapshot in offline/<view> in one Delta commit. All views when --view is absent.",
    )
    parser.add_argument("--view", action="append", help="view name (repeatable)")
    parser.add_argument("--date", help="logical date YYYY-MM-DD")
    parser.add_argument("--start", help="first date of a range (with --end)")
    parser.add_argument("--end", help="last date of a range, inclusive")
    parser.add_argument("--run-id", help="run id stored on every row (Airflow passes its own)")
    parser.add_argument(
        "--allow-unvalidated",
        action="store_true",
        help="run even when Pandera validation is switched off (logged loudly)",
    )
    parser.set_defaults(handler=run)


def requested_days(args: argparse.Namespace) -> list[date]:
    """--date, or --start/--end; exactly one form."""
    if args.date and (args.start or args.end):
        raise UnsafeInputError("give either --date or --start/--end, not both")
    if args.date:
        return [parse_date(args.date)]
    if args.start and args.end:
        return date_range(parse_date(args.start, "--start"), parse_date(args.end, "--end"))
    raise UnsafeInputError("give --date YYYY-MM-DD or --start YYYY-MM-DD --end YYYY-MM-DD")


def run(args: argparse.Namespace, settings: Settings) -> int:
    days = requested_days(args)
    views = selected_views(settings, args.view)
    if args.allow_unvalidated:
        logging.getLogger("skewless").warning("materialize runs with --allow-unvalidated")
    spark = start_spark(settings, "skewless-materialize")
    total = len(views) * len(days)
    say(f"materializing {len(views)} view(s) x {len(days)} date(s) = {total} snapshot(s)")
    done = 0
    for view in views:

        def progress(line: str) -> None:
            nonlocal done
            done += 1
            say(f"[{done}/{total}] {line}")

        materialize_range(
            spark,
            settings,
            view,
            days,
            run_id=args.run_id,
            allow_unvalidated=args.allow_unvalidated,
            progress=progress,
        )
    say(f"done: {done} snapshot(s) committed")
    return 0

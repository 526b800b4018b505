"""``materialize``: compute, validate and commit snapshots for a date or a date range."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from datetime import date

from feature_jobs.cli.common import say, selected_views, start_spark
from feature_jobs.cli.progress import StepProgress
from feature_jobs.definitions import FeatureView
from feature_jobs.errors import UnsafeInputError
from feature_jobs.materialize import ViewOutcome, materialize_views
from feature_jobs.redaction import redact_text
from feature_jobs.settings import Settings
from feature_jobs.sources import local_source_bytes
from feature_jobs.timeutil import date_range, parse_date, snapshot_times


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "materialize",
        help="compute snapshots of feature views into Delta (validated first)",
        description="Compute the snapshot of each view for a logical date D (feature_ts = "
        "D+1 00:00 UTC, from events before it), validate it, and replace that date's "
        "snapshot in offline/<view> in one Delta commit. A range --start/--end is one "
        "Spark job and one Delta commit per view (a snapshot failing validation is "
        "quarantined alone, the others commit). All views when --view is absent.",
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


#: Views whose sources' files total at most this make a short job (the short-job JVM
#: profile of feature_jobs.spark.jvm_options). Measured (bench/README.md, "Range
#: materialization"): with the demo's 4.4 MB of transactions the whole demo took 101 s
#: instead of 127 s; with 23 MB (1M events, a 30-day range) both profiles took 76-87 s.
SHORT_JOB_SOURCE_BYTES = 16 * 1024 * 1024


def is_short_job(settings: Settings, views: list[FeatureView]) -> bool:
    """Whether materializing ``views`` is seconds of work, judged by their sources' size."""
    size = local_source_bytes(settings, (view.source for view in views))
    return size is not None and size <= SHORT_JOB_SOURCE_BYTES


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
    spark = start_spark(settings, "skewless-materialize", short_job=is_short_job(settings, views))
    total = sum(len(snapshot_times(day, v.cadence_delta)) for v in views for day in days)
    say(f"materializing {len(views)} view(s) x {len(days)} date(s) = {total} snapshot(s)")
    outcomes = materialize_views(
        spark,
        settings,
        views,
        days,
        run_id=args.run_id,
        allow_unvalidated=args.allow_unvalidated,
        progress=StepProgress(MATERIALIZE_STEPS * len(views)),
    )
    return report_outcomes(outcomes, verbose=args.verbose)


#: Progress lines of one view's run: validated (committing), committed.
MATERIALIZE_STEPS = 2


def report_outcomes(outcomes: list[ViewOutcome], verbose: bool = False) -> int:
    """An ``error:`` line per failed view (each view's progress line said what committed);
    the exit code.

    With ``verbose``, each error's traceback (Java stack included) comes before its line.
    """
    code = 0
    for outcome in outcomes:
        if outcome.error is not None:
            if verbose:
                trace = "".join(traceback.format_exception(outcome.error))
                print(redact_text(trace), file=sys.stderr, flush=True)
            print(f"error: {outcome.error}", file=sys.stderr, flush=True)
            code = max(code, outcome.error.exit_code)
    return code

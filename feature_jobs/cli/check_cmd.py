"""``check``: compare what Redis serves with the Delta snapshot; alert on mismatches."""

from __future__ import annotations

import argparse

from feature_jobs.cli.common import say, selected_views, start_spark
from feature_jobs.errors import UnsafeInputError
from feature_jobs.offline import latest_snapshot_date
from feature_jobs.online.check import check, send_check_alert
from feature_jobs.run_ids import checked_run_id
from feature_jobs.settings import Settings
from feature_jobs.timeutil import parse_date

#: Exit code when a view's online values disagree with Delta beyond the threshold.
EXIT_MISMATCH = 3


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "check",
        help="consistency check of the online store against the Delta snapshot",
        description="Sample entities of the date's snapshot (all of them on small data), "
        "read them from Redis and compare every value exactly; also compare entity counts. "
        "Above --threshold an alert is sent and the exit code is 3. All views when --view "
        "is absent; each view's latest materialized date when --date is absent.",
    )
    parser.add_argument("--view", action="append", help="view name (repeatable)")
    parser.add_argument("--date", help="logical date YYYY-MM-DD (default: latest materialized)")
    parser.add_argument("--sample", type=int, default=1000, help="entities to compare")
    parser.add_argument(
        "--threshold", type=float, default=0.0, help="highest mismatch rate that passes"
    )
    parser.add_argument("--run-id", help="run id named in alerts")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.sample < 1:
        raise UnsafeInputError(f"--sample {args.sample}: give a positive number of entities")
    if not 0.0 <= args.threshold <= 1.0:
        raise UnsafeInputError(f"--threshold {args.threshold}: give a rate between 0 and 1")
    views = selected_views(settings, args.view)
    day = parse_date(args.date) if args.date else None
    checked_run_id(args.run_id)
    spark = start_spark(settings, "skewless-check")
    failed = []
    for view in views:
        target = day or latest_snapshot_date(spark, settings, view)
        result = check(spark, settings, view, target, sample=args.sample, threshold=args.threshold)
        verdict = "ok" if result.passed else "MISMATCH"
        say(f"{view.name} {target}: {verdict}: {result.message}")
        for example in result.examples:
            say(f"  {example}")
        if not result.passed:
            send_check_alert(settings, result, args.run_id)
            failed.append(view.name)
    if failed:
        say(f"online store disagrees with Delta for: {', '.join(failed)} (alert sent)")
        return EXIT_MISMATCH
    return 0

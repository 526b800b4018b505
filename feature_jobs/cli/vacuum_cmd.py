"""``vacuum``: delete old Delta files of offline tables, never those a manifest pins."""

from __future__ import annotations

import argparse

from feature_jobs.cli.common import say, selected_views, start_spark
from feature_jobs.errors import UnsafeInputError
from feature_jobs.offline import DEFAULT_RETAIN_HOURS, guarded_vacuum
from feature_jobs.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "vacuum",
        help="VACUUM offline tables, refusing to delete versions training manifests pin",
        description="Run Delta VACUUM on offline/<view> with a retention in hours. Every "
        "training-set manifest under SKEWLESS_DATA_ROOT is read first: a retention that "
        "would delete the files of a Delta version a manifest pins is refused (a rebuild "
        "from that manifest would fail). All views when --view is absent.",
    )
    parser.add_argument("--view", action="append", help="view name (repeatable)")
    parser.add_argument(
        "--retain-hours",
        type=float,
        default=DEFAULT_RETAIN_HOURS,
        help=f"keep files removed less than this many hours ago (default {DEFAULT_RETAIN_HOURS:g})",
    )
    parser.add_argument("--dry-run", action="store_true", help="check and report, delete nothing")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.retain_hours >= 0:
        raise UnsafeInputError(f"--retain-hours {args.retain_hours} must be a number >= 0")
    views = selected_views(settings, args.view)
    spark = start_spark(settings, "skewless-vacuum")
    for view in views:
        plan = guarded_vacuum(spark, settings, view, args.retain_hours, dry_run=args.dry_run)
        action = "would vacuum" if args.dry_run else "vacuumed"
        say(
            f"{view.name}: {action} with retention {args.retain_hours:g}h; {len(plan.pins)} "
            f"pinned version(s) need at least {plan.required_hours:.2f}h"
        )
    return 0

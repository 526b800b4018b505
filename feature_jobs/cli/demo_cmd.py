"""``demo``: generate the demo domain, then run the whole pipeline over it."""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

from feature_jobs.cli.common import registry, say, selected_views, start_spark
from feature_jobs.cli.materialize_cmd import MATERIALIZE_STEPS, is_short_job, report_outcomes
from feature_jobs.cli.progress import StepProgress
from feature_jobs.demo.showcase import build_label_training_set, publish_latest, show_lookups
from feature_jobs.materialize import materialize_views
from feature_jobs.offline import views_folder
from feature_jobs.settings import Settings
from feature_jobs.timeutil import date_range, parse_date, utc_now


def default_end() -> str:
    """Yesterday (UTC): the latest complete day, so what the demo serves is fresh."""
    return (utc_now().date() - timedelta(days=1)).isoformat()


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "demo",
        help="generate demo card transactions and run the pipeline end to end",
        description="Generate a deterministic demo domain (users, merchants, card "
        "transactions with late and duplicate deliveries, chargeback labels) under "
        "SKEWLESS_DATA_ROOT, then materialize every view for every day.",
    )
    parser.add_argument("--days", type=int, default=45, help="days of history (default 45)")
    parser.add_argument("--end", default=default_end(), help="last day (default: yesterday, UTC)")
    parser.add_argument("--users", type=int, default=2000, help="number of users")
    parser.add_argument("--merchants", type=int, default=200, help="number of merchants")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument(
        "--inject-bad-data",
        action="store_true",
        help="append bad transactions on the last day: its snapshots fail validation, are "
        "quarantined with a report, an alert is sent, nothing of that day is published",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from feature_jobs.demo.generator import generate

    started = time.monotonic()
    end = parse_date(args.end, "--end")
    say(f"generating {args.days} days of demo data into {settings.data_root} ...")
    summary = generate(
        settings.data_root,
        days=args.days,
        end=end,
        users=args.users,
        merchants=args.merchants,
        seed=args.seed,
    )
    say(f"  {summary}")
    if args.inject_bad_data:
        from feature_jobs.demo.bad_data import inject_bad_data

        say(f"  {inject_bad_data(settings.data_root, end).line()}")
    views = selected_views(settings, None)
    spark = start_spark(settings, "skewless-demo", short_job=is_short_job(settings, views))
    days = demo_days(end, args.days)
    total = len(views) * len(days)
    say(f"materializing {len(views)} views x {len(days)} days = {total} snapshots")
    progress = StepProgress(MATERIALIZE_STEPS * len(views))
    outcomes = materialize_views(spark, settings, views, days, progress=progress)
    code = report_outcomes(outcomes, verbose=args.verbose)
    if code:
        return code
    rows = sum(r.rows for outcome in outcomes for r in outcome.results)
    say(f"{rows} feature rows materialized into {views_folder(settings)}")
    reg = registry(settings)
    say(f"publishing the snapshots of {end} to Redis ...")
    publish_latest(spark, settings, reg, end, say)
    say("online lookups (fraud_model_v1), as served now:")
    show_lookups(
        settings,
        reg,
        [
            {"user_id": 1, "merchant_id": 10_001},
            {"user_id": 2, "merchant_id": 10_002},
            {"user_id": 999_999, "merchant_id": 999_999},
        ],
        say,
    )
    say("building the point-in-time training set of the chargeback labels ...")
    build_label_training_set(spark, settings, reg, say)
    say(f"demo done in {time.monotonic() - started:.0f}s")
    if not settings.redis_url:
        say(
            "the embedded redis-server keeps serving the published snapshots; "
            "python -m feature_jobs redis status / redis stop"
        )
    return 0


def demo_days(end: date, days: int) -> list[date]:
    """Every day of the generated history."""
    return date_range(end - timedelta(days=days - 1), end)

"""Benchmark: a backfill of one view over the demo's history, as a range, whole process.

Times ``python -m feature_jobs materialize --view V --start D1 --end D2`` in a fresh
process into an empty warehouse (Spark start included), beside the plain Spark job that
computes the same snapshots and writes them in one Delta commit with no validation gate
(the floor a range job can reach), and optionally beside the same command from another
checkout (``--old``, e.g. a worktree of an older commit), alternating in each round:

    .venv/bin/python bench/range_materialize_bench.py --rounds 2 --old /path/to/old/checkout

Figures and the machine they ran on go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.backfill_bench import run_measured  # noqa: E402 - a fresh process, measured


def plain_job(root: Path, view_name: str, start: date, end: date) -> None:
    """The floor: read, deduplicate, compute every snapshot, one Delta commit; no gate."""
    from feature_jobs.cli.materialize_cmd import is_short_job
    from feature_jobs.definitions import load_registry
    from feature_jobs.offline import with_bookkeeping, write_snapshots
    from feature_jobs.settings import Settings
    from feature_jobs.sources import read_source
    from feature_jobs.spark.session import build_spark
    from feature_jobs.timeutil import date_range, snapshot_times, utc_now
    from feature_jobs.transform import compute_snapshots, prepare_events, prune_events

    settings = Settings.from_env({**os.environ, "SKEWLESS_DATA_ROOT": str(root)})
    view = load_registry(settings.features_module).view(view_name)
    # The JVM profile the materialize command would pick for these sources.
    spark = build_spark(settings, "skewless-bench-plain-range", is_short_job(settings, [view]))
    times = [ts for d in date_range(start, end) for ts in snapshot_times(d, view.cadence_delta)]
    events = read_source(spark, settings, view.source)
    pruned = prune_events(view, events, times[0] - view.longest_window, times[-1])
    computed = compute_snapshots(view, prepare_events(view, pruned), times)
    rows = with_bookkeeping(computed, view, "plain", utc_now())
    commit = write_snapshots(spark, settings, view, rows, times, "plain")
    print(f"plain job: {commit.rows} rows in one commit", flush=True)
    spark.stop()


def fresh_root(base: Path, raw: Path, name: str) -> Path:
    """An empty warehouse over a copy of the raw data (links out of a data root are refused)."""
    root = base / name
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(raw, root / "raw")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--view", default="user_transaction_stats")
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--end", default="2026-12-05")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--old", help="another checkout to time the same command from")
    parser.add_argument("--root", help="work folder (default: a fresh temporary folder)")
    parser.add_argument("--plain-job", help=argparse.SUPPRESS)  # the subprocess of a round
    args = parser.parse_args()
    end = date.fromisoformat(args.end)
    start = end - timedelta(days=args.days - 1)
    if args.plain_job:
        plain_job(Path(args.plain_job), args.view, start, end)
        return

    base = Path(args.root or tempfile.mkdtemp(prefix="skewless-range-bench-"))
    from feature_jobs.demo.generator import generate

    summary = generate(
        base / "source", days=args.days, end=end, users=args.users, merchants=args.merchants
    )
    raw = base / "source" / "raw"
    cli = ["materialize", "--view", args.view, "--start", str(start), "--end", str(end)]
    command = [sys.executable, "-m", "feature_jobs", *cli]
    contenders: dict[str, tuple[list[str], Path]] = {
        "range materialize (gate, one commit)": (command, REPO),
        "plain Spark job (no gate, one commit)": (
            [sys.executable, str(Path(__file__).resolve()), "--plain-job", "{root}",
             "--view", args.view, "--days", str(args.days), "--end", args.end],
            REPO,
        ),
    }  # fmt: skip
    if args.old:
        contenders["--old checkout's materialize"] = (command, Path(args.old).resolve())
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"data: {summary}; view {args.view}, {start}..{end}")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    peaks: dict[str, list[float]] = {name: [] for name in contenders}
    for round_no in range(args.rounds):
        order = list(contenders) if round_no % 2 == 0 else list(reversed(contenders))
        for name in order:
            command, cwd = contenders[name]
            root = fresh_root(base, raw, "run")
            env = {**os.environ, "SKEWLESS_DATA_ROOT": str(root)}
            line = [str(root) if part == "{root}" else part for part in command]
            seconds, peak, _, _ = run_measured(line, env, cwd)
            times[name].append(seconds)
            peaks[name].append(peak)
            print(
                f"round {round_no + 1}: {name}: {seconds:.1f} s, peak RSS {peak:.2f} GB", flush=True
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for name in contenders:
        print(
            f"{name}: median {statistics.median(times[name]):.1f} s "
            f"(min {min(times[name]):.1f}, max {max(times[name]):.1f}), peak RSS median "
            f"{statistics.median(peaks[name]):.2f} GB"
        )
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

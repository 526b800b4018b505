"""Benchmark: what the validation gate costs inside materialize, on demo-sized snapshots.

For each demo view, materializes the last ``--dates`` days of a generated history (the
first date has no baseline; later ones run the batch checks too) and reports the share
of each materialize spent in the gate, phase by phase. Then, on the last snapshot read back
from Delta and cached, compares the gate's one-pass evaluation with a plain Pandera
validation of the same schema (one Spark query per check). Run it on a quiet machine:

    .venv/bin/python bench/validation_bench.py --days 45 --users 2000 --merchants 200

Figures and the machine they ran on go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere


def _jobs(spark: Any, group: str, action: Any) -> tuple[Any, float, int]:
    """Run ``action``; return its result, seconds and the number of Spark jobs it ran."""
    context = spark.sparkContext
    context.setJobGroup(group, group)
    started = time.monotonic()
    try:
        result = action()
    finally:
        context.setJobGroup("", "")
    seconds = time.monotonic() - started
    return result, seconds, len(context.statusTracker().getJobIdsForGroup(group))


def _compare(spark: Any, snapshot: Any, contract: Any, plain_schema: Any, rows: int) -> str:
    """Plain Pandera (a query per check) against the gate's one pass, median of 3 runs."""
    from feature_jobs.validation.scan import scan

    def one_pass() -> Any:
        counts = scan(snapshot, contract.runnable(snapshot.schema), {}).violations
        return contract.pandera_schema(counts).validate(snapshot)

    plain, batched = [], []
    plain_jobs = pass_jobs = 0
    for i in range(3):
        _, seconds, plain_jobs = _jobs(spark, f"plain{i}", lambda: plain_schema.validate(snapshot))
        plain.append(seconds)
        _, seconds, pass_jobs = _jobs(spark, f"batched{i}", one_pass)
        batched.append(seconds)
    return (
        f"same {rows}-row snapshot, {len(contract.rules)} rules, median of 3: plain Pandera "
        f"{statistics.median(plain):.2f}s ({plain_jobs} Spark jobs) vs one pass "
        f"{statistics.median(batched):.2f}s ({pass_jobs} Spark jobs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument("--dates", type=int, default=4, help="dates materialized per view")
    parser.add_argument("--end", default="2026-03-29")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="skewless-bench-validation-"))
    os.environ["SKEWLESS_DATA_ROOT"] = str(root)
    import feature_jobs.materialize as mat
    from feature_jobs.definitions import load_registry
    from feature_jobs.demo.generator import generate
    from feature_jobs.offline import read_snapshot
    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark
    from feature_jobs.timeutil import snapshot_times
    from feature_jobs.validation.contract import view_contract
    from feature_jobs.validation.gate import gate_snapshots
    from schemas import view_schema

    settings = Settings.from_env()
    end = date.fromisoformat(args.end)
    summary = generate(root, days=args.days, end=end, users=args.users, merchants=args.merchants)
    spark = build_spark(settings, "skewless-bench-validation")
    spark.range(1).count()

    gate_runs: list[Any] = []

    def timed_gate(*a: Any, **kw: Any) -> Any:
        # Instrumentation only. The snapshot materialize hands over is cached but not yet
        # computed: fill the cache first so its cost is not charged to the gate, then
        # run the real gate and record its result.
        started = time.monotonic()
        a[3].count()
        computed = time.monotonic() - started
        result = gate_snapshots(*a, **kw)
        gate_runs.append((computed, result))
        return result

    mat.gate_snapshots = timed_gate  # type: ignore[assignment]
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"data: {summary}")
    days = [end - timedelta(days=i) for i in range(args.dates - 1, -1, -1)]
    for view in load_registry("features").views.values():
        print(f"\n== {view.name}")
        for day in days:
            gate_runs.clear()
            started = time.monotonic()
            [result] = mat.materialize(spark, settings, view, day)
            total = time.monotonic() - started
            [(computed, gate)] = gate_runs
            phases = " ".join(f"{k}={v:.2f}" for k, v in gate.timings.items())
            seconds = sum(gate.timings.values())
            warnings = sum(len(v.findings) for v in gate.verdicts)
            print(
                f"{day} rows={result.rows} materialize={total:.2f}s (snapshot compute "
                f"{computed:.2f}s) gate={seconds:.2f}s ({100 * seconds / total:.0f}%) "
                f"[{phases}] warnings={warnings}"
            )
        [feature_ts] = snapshot_times(days[-1], view.cadence_delta)[-1:]
        snapshot = read_snapshot(spark, settings, view, feature_ts).cache()
        rows = snapshot.count()
        run_id = snapshot.select("run_id").first()[0]  # type: ignore[index]
        contract = view_contract(
            view, feature_ts=feature_ts, snapshot_date=days[-1], run_id=run_id,
            now=feature_ts + timedelta(days=365),
        )  # fmt: skip
        plain_schema = view_schema(
            view, feature_ts=feature_ts, run_id=run_id, now=feature_ts + timedelta(days=365)
        )
        print(_compare(spark, snapshot, contract, plain_schema, rows))
        snapshot.unpersist()


if __name__ == "__main__":
    main()

"""Feast 0.67's ``get_historical_features`` on the training-set benchmark's workload.

Issue 5 sets its target against Feast's DuckDB offline store on this workload (about 21 s,
4.1 GB). This machine's speed drifts by a tenth or more within an hour, so a figure from
another day is a weak yardstick; this script measures Feast on the same data, on the
same machine, at the same time as ``training_set_bench.py`` measures skewless.

Feast is not a dependency of skewless: give it its own virtualenv. The data is the one
``training_set_bench.py`` generates (run it first)::

    python3 -m venv .cache/feast-venv
    .cache/feast-venv/bin/pip install 'feast[duckdb]==0.67.*' 'pandas<3'
    .cache/feast-venv/bin/python bench/feast_training_bench.py --spines 1000000 --runs 3

Each run is a fresh process (imports included), as the skewless command is: it reads the
spine into pandas (Feast takes the entity rows as a DataFrame), calls
``get_historical_features(...).to_df()`` over the offline table's Parquet files and writes
the result to Parquet. Wall time of the whole process and its peak RSS are reported, and
the time of the ``get_historical_features`` call alone.

Feast's join is not skewless's: it takes each entity's latest row within the TTL, where
skewless takes the entity's row in the latest snapshot. On this workload (every entity in
every daily snapshot) both pick the same row for every spine row.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

FEATURES = [f"f{i}" for i in range(1, 9)]
VIEW = "bench_account_stats"
TTL = timedelta(days=2)  # the benchmark view's max_age


def write_repo(repo: Path, offline_glob: str) -> None:
    """A Feast repository: DuckDB offline store, the benchmark view over ``offline_glob``."""
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(
        "project: skewless_bench\n"
        f"registry: {repo / 'registry.db'}\n"
        "provider: local\n"
        "offline_store:\n  type: duckdb\n"
        f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
        "entity_key_serialization_version: 3\n"
    )
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    account = Entity(name="account", join_keys=["account_id"], value_type=ValueType.INT64)
    source = FileSource(name="bench_offline", path=offline_glob, timestamp_field="feature_ts")
    view = FeatureView(
        name=VIEW,
        entities=[account],
        ttl=TTL,
        schema=[Field(name=name, dtype=Float64) for name in FEATURES],
        source=source,
        online=False,
    )
    FeatureStore(repo_path=str(repo)).apply([account, view])


def run_one(repo: Path, spine: Path, output: Path) -> None:
    """One measured run (in a child process): spine -> point-in-time join -> Parquet."""
    import pandas as pd
    from feast import FeatureStore

    entity_df = pd.read_parquet(spine).rename(columns={"ts": "event_timestamp"})
    entity_df["event_timestamp"] = pd.to_datetime(entity_df["event_timestamp"], utc=True)
    store = FeatureStore(repo_path=str(repo))
    started = time.monotonic()
    job = store.get_historical_features(
        entity_df=entity_df, features=[f"{VIEW}:{name}" for name in FEATURES]
    )
    result = job.to_df()
    call_seconds = time.monotonic() - started
    result.to_parquet(output)
    peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    report = {"rows": len(result), "call_seconds": call_seconds, "peak_bytes": peak_bytes}
    print(json.dumps(report), flush=True)


def measure(repo: Path, spine: Path, output: Path) -> tuple[float, float, float, int]:
    """(process seconds, call seconds, peak RSS in GB, rows) of one fresh-process run."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, __file__, "--one", str(repo), str(spine), str(output)],
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"Feast run failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # The run's own peak, reported by the child: RUSAGE_CHILDREN would give the largest
    # run so far, whatever the order of the spine sizes.
    peak_gb = int(report["peak_bytes"]) / 1e9
    return seconds, float(report["call_seconds"]), peak_gb, int(report["rows"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/tmp/skewless_training_bench")
    parser.add_argument("--spines", default="1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--one", nargs=3, metavar=("REPO", "SPINE", "OUTPUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        run_one(*(Path(p) for p in args.one))
        return
    root = Path(args.root).resolve()
    offline = root / "warehouse" / "offline" / VIEW
    if not offline.is_dir():
        raise SystemExit(f"no benchmark data in {root}; run bench/training_set_bench.py first")
    with tempfile.TemporaryDirectory(prefix="feast_bench_") as tmp:
        repo = Path(tmp) / "repo"
        write_repo(repo, str(offline / "snapshot_date=*" / "*.parquet"))
        for size in (int(s) for s in args.spines.split(",")):
            spine = root / "spines" / f"spine_{size}"
            runs = [
                measure(repo, spine, Path(tmp) / f"out_{size}.parquet") for _ in range(args.runs)
            ]
            times, calls = [r[0] for r in runs], [r[1] for r in runs]
            print(
                f"Feast, spine {size:>9,} rows ({runs[0][3]:,} out): median "
                f"{statistics.median(times):6.1f} s (min {min(times):.1f}, max {max(times):.1f}); "
                f"get_historical_features alone median {statistics.median(calls):.1f} s; "
                f"peak RSS {max(r[2] for r in runs):.2f} GB",
                flush=True,
            )


if __name__ == "__main__":
    main()

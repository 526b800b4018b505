"""The notebook call: ``FeatureStore.get_historical_features`` on a pandas spine, warm (issue 16).

What a data scientist's loop costs once the process is warm (imports done, definitions
loaded): a pandas spine in, a pandas training set out. One process; the first call is
reported apart (it pays the imports), then ``--calls`` warm calls, each timed from the
pandas spine to the pandas result (``.to_pandas()`` included). Data: the training-set
benchmark's (``training_set_bench.py`` generates it).

Usage::

    .venv/bin/python bench/notebook_training_bench.py [--spine 1000000] [--calls 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import training_set_bench as workload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/tmp/skewless_training_bench")
    parser.add_argument("--spine", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--engine", default="auto")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    if not (root / "spines" / f"spine_{args.spine}").is_dir():
        workload.generate(root, [args.spine])
    os.environ.update(
        SKEWLESS_DATA_ROOT=str(root),
        SKEWLESS_FEATURES="training_set_bench",
        SPARK_MASTER="local[2]",
    )
    import pyarrow.parquet as pq

    from feature_jobs.definitions import build_registry
    from feature_jobs.online.store import FeatureStore
    from feature_jobs.settings import Settings

    spine = pq.read_table(root / "spines" / f"spine_{args.spine}").to_pandas()
    # Spark wrote the times as INT96, which pandas reads as naive UTC values: say they are UTC.
    spine["ts"] = spine["ts"].dt.tz_localize("UTC")
    features = [f"{workload.bench_view.name}:{name}" for name in workload.FEATURES]
    store = FeatureStore(Settings.from_env(), registry=build_registry([workload.bench_view]))

    def call() -> tuple[float, str, int]:
        started = time.monotonic()
        training = store.get_historical_features(spine, features=features, engine=args.engine)
        frame = training.to_pandas()
        return time.monotonic() - started, training.engine, len(frame)

    first, engine, rows = call()
    print(f"first call (imports included): {first:.2f} s, engine {engine}, {rows:,} rows")
    warm = [call()[0] for _ in range(args.calls)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"warm calls, spine {args.spine:,} rows (pandas in, pandas out): median "
        f"{statistics.median(warm):.2f} s (min {min(warm):.2f}, max {max(warm):.2f}) over "
        f"{len(warm)} calls; peak RSS of the process {peak:.2f} GB",
        flush=True,
    )


if __name__ == "__main__":
    main()

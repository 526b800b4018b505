"""``make cluster-demo``: the demo pipeline on a real Spark standalone cluster, locally.

Starts a master and one worker from the pyspark installation (bound to 127.0.0.1), runs
``python -m feature_jobs demo`` (materialize, validate, sync to Redis, training set) with
``SPARK_MASTER=spark://127.0.0.1:<port>`` and nothing else changed, prints what the
master saw, and stops the cluster. Data goes to ``--data-root`` (default
``data/cluster-demo``), apart from ``make demo``'s.

    python scripts/cluster_demo.py [--data-root DIR] [--days 3] [--end 2026-03-29]
        [--users 40] [--merchants 8] [--keep-data]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feature_jobs.online.embedded import stop_embedded  # noqa: E402
from feature_jobs.settings import Settings  # noqa: E402
from feature_jobs.spark.standalone import StandaloneCluster  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(ROOT / "data" / "cluster-demo"))
    # The sizes and end date of the demo's own end-to-end test: a known-good run.
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--end", default="2026-03-29")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--merchants", type=int, default=8)
    parser.add_argument("--keep-data", action="store_true", help="do not wipe the data root")
    args = parser.parse_args(argv)
    data_root = Path(args.data_root).resolve()
    env = {**os.environ, "SKEWLESS_DATA_ROOT": str(data_root), "TZ": "UTC"}
    env.pop("DELTA_ROOT", None)  # under the demo's data root
    if not args.keep_data and data_root.exists():
        stop_embedded(Settings.from_env(env))
        shutil.rmtree(data_root)
    started = time.monotonic()
    print("starting a Spark standalone master and worker on 127.0.0.1 ...", flush=True)
    with StandaloneCluster(data_root.parent / f"{data_root.name}-cluster") as cluster:
        print(f"cluster up: {cluster.master_url} (1 worker) in "
              f"{time.monotonic() - started:.0f}s", flush=True)  # fmt: skip
        env["SPARK_MASTER"] = cluster.master_url
        demo = [sys.executable, "-m", "feature_jobs", "demo", "--days", str(args.days),
                "--end", args.end, "--users", str(args.users),
                "--merchants", str(args.merchants)]  # fmt: skip
        code = subprocess.run(demo, cwd=ROOT, env=env, check=False).returncode
        names = cluster.completed_apps(timeout_s=60)
        print(f"applications the master ran: {', '.join(names) or 'none'}", flush=True)
    stop_embedded(Settings.from_env(env))
    print(f"cluster stopped; demo exit code {code}; {time.monotonic() - started:.0f}s in all")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

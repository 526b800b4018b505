"""The training-set command by engine, beside Feast 0.67, alternating in one run (issue 16).

For each spine size and round, three fresh processes run one after the other on the data
of ``training_set_bench.py``: ``training-set --engine local``, Feast's
``get_historical_features`` (``feast_training_bench.py``, in its own virtualenv), and
``training-set --engine spark``. Alternating spreads the machine's drift over all three.
Each figure is the whole process (Python start included) and its peak resident memory
(the process tree's, sampled, or the process's own peak, whichever is larger).

Usage::

    .venv/bin/python bench/training_engines_bench.py [--spines 100000,1000000,3000000]
        [--rounds 2] [--contenders local,feast,spark] [--feast-python .cache/feast-venv/bin/python]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import training_set_bench as workload

FEAST_LINE = re.compile(r"median\s+([\d.]+) s .* alone median ([\d.]+) s; peak RSS ([\d.]+) GB")


def feast_once(python: str, root: Path, size: int) -> tuple[float, float, str]:
    """One Feast run: (seconds, peak GB, note with the call's own seconds)."""
    done = subprocess.run(
        [
            python,
            str(workload.REPO / "bench" / "feast_training_bench.py"),
            *("--root", str(root), "--spines", str(size), "--runs", "1"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = FEAST_LINE.search(done.stdout)
    if found is None:
        raise SystemExit(f"unexpected Feast output:\n{done.stdout}\n{done.stderr[-2000:]}")
    return float(found[1]), float(found[3]), f"call {found[2]} s"


def auto_choice(env: dict[str, str], root: Path, size: int) -> str:
    """What ``--engine auto`` picks for this spine, and why (asked in a child process)."""
    code = (
        "from pathlib import Path\n"
        "from feature_jobs.definitions import FeatureRef\n"
        "from feature_jobs.settings import Settings\n"
        "from feature_jobs.training.engines import choose\n"
        "from feature_jobs.training.request import TrainingSetRequest\n"
        f"refs = tuple(FeatureRef.parse(f'{workload.bench_view.name}:{{n}}') "
        f"for n in {workload.FEATURES!r})\n"
        f"request = TrainingSetRequest(Path({str(root / 'spines' / f'spine_{size}')!r}), "
        "'parquet', 'ts', refs, Path('/unused'))\n"
        "print(*choose('auto', Settings.from_env(), request))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/tmp/skewless_training_bench")
    parser.add_argument("--spines", default="100000,1000000,3000000")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--contenders", default="local,feast,spark")
    parser.add_argument(
        "--feast-python", default=str(workload.REPO / ".cache" / "feast-venv" / "bin" / "python")
    )
    args = parser.parse_args()
    root = Path(args.root).resolve()
    sizes = [int(s) for s in args.spines.split(",")]
    contenders = args.contenders.split(",")
    workload.generate(root, sizes)
    env = {
        **os.environ,
        "SKEWLESS_DATA_ROOT": str(root),
        "SKEWLESS_FEATURES": "training_set_bench",
        "PYTHONPATH": f"{Path(__file__).resolve().parent}{os.pathsep}{workload.REPO}",
        "SPARK_MASTER": "local[2]",
        "SKEWLESS_SHUFFLE_PARTITIONS": "8",
        "SKEWLESS_DRIVER_MEMORY": "2g",
    }
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    for size in sizes:
        print(f"spine {size:>10,}: --engine auto picks {auto_choice(env, root, size)}", flush=True)
        results: dict[str, list[tuple[float, float]]] = {c: [] for c in contenders}
        for round_no in range(1, args.rounds + 1):
            for contender in contenders:
                if contender == "feast":
                    seconds, peak, note = feast_once(args.feast_python, root, size)
                else:
                    seconds, peak, used = workload.run_once(root, size, env, contender)
                    note = f"ran {used}"
                results[contender].append((seconds, peak))
                print(
                    f"spine {size:>10,} round {round_no} {contender:<6} {seconds:7.2f} s "
                    f"{peak:5.2f} GB ({note})",
                    flush=True,
                )
        for contender in contenders:
            times = [t for t, _ in results[contender]]
            peaks = [p for _, p in results[contender]]
            print(
                f"SUMMARY spine {size:>10,} {contender:<6} median "
                f"{statistics.median(times):7.2f} s "
                f"(min {min(times):.2f}, max {max(times):.2f}); peak RSS median "
                f"{statistics.median(peaks):.2f} GB (max {max(peaks):.2f})",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()

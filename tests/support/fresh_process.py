"""Run a snippet of Python in a fresh process: a new interpreter and, if it starts one, a new JVM.

Driver JVM flags only take effect when a JVM starts, and import-time effects only show in
a process that has not imported anything yet; the test session's own Spark cannot show
either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str, data_root: Path, **env: str) -> str:
    """Run ``code`` with the project on the path, local Spark and ``env``; its stdout.

    The run must succeed; on failure the assertion shows the end of its stderr.
    """
    full_env = {
        **os.environ,
        "SKEWLESS_DATA_ROOT": str(data_root),
        "SPARK_MASTER": "local[1]",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=full_env, cwd=ROOT, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr

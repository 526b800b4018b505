"""Run the CLI in a child process group (so a test can SIGKILL driver, JVM and workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from feature_jobs.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a job of ``settings`` runs with (what Airflow would pass)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SKEWLESS_DATA_ROOT": str(settings.data_root),
        "DELTA_ROOT": settings.delta_root,
        "SKEWLESS_PROJECT": settings.project,
        "SKEWLESS_FEATURES": "tests.reliability.defs",
        "SPARK_MASTER": "local[1]",
        "SKEWLESS_SHUFFLE_PARTITIONS": "2",
        "TZ": "UTC",
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    env.update(extra)
    return env


def start(
    args: Sequence[str], env: dict[str, str], log: Path, module: str = "feature_jobs"
) -> subprocess.Popen[bytes]:
    """``python -m <module> <args>`` in its own session, output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str
) -> None:
    """Poll ``condition`` until true; fail if the process ends first or after 10 minutes."""
    deadline = time.monotonic() + 600
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the job ended before {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            kill_group(process)
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def kill_group(process: subprocess.Popen[bytes]) -> int:
    """SIGKILL the process group (driver, JVM, Python workers at once); its return code."""
    os.killpg(process.pid, signal.SIGKILL)
    return process.wait(timeout=60)


def run(args: Sequence[str], env: dict[str, str], log: Path) -> int:
    """Run ``python -m feature_jobs <args>`` to the end; its exit code."""
    process = start(args, env, log)
    try:
        return process.wait(timeout=900)
    finally:
        if process.poll() is None:
            kill_group(process)

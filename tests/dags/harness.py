"""Run Airflow the way the tests need it: in subprocesses, with a migrated SQLite home.

Airflow reads its configuration once per process, so each DAG run happens in a fresh
``python run_dag.py`` with the environment a test chose (data root, Redis namespace,
alert file). The ``spark_default`` connection comes from ``AIRFLOW_CONN_SPARK_DEFAULT``,
exactly as a deployment would set it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from feature_jobs.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
RUN_DAG = Path(__file__).with_name("run_dag.py")
MARK = "DAG_TEST_RESULT "
RUN_DEADLINE = Path(__file__).with_name("run_deadline.py")
DEADLINE_MARK = "DEADLINE_RESULT "
#: Two cores are shared by the whole suite: Spark jobs started by Airflow use local[2].
SPARK_CONN = json.dumps({"conn_type": "spark", "host": "local[2]"})


def airflow_env(
    airflow_home: Path, settings: Settings | None = None, **extra: str
) -> dict[str, str]:
    """Environment of an Airflow process of the tests (no AIRFLOW_* of the caller leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        AIRFLOW_CONN_SPARK_DEFAULT=SPARK_CONN,
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYSPARK_PYTHON=sys.executable,
        TZ="UTC",
        SKEWLESS_SHUFFLE_PARTITIONS="2",
    )
    if settings is not None:
        env.update(
            SKEWLESS_DATA_ROOT=str(settings.data_root),
            DELTA_ROOT=settings.delta_root,
            SKEWLESS_PROJECT=settings.project,
            SKEWLESS_FEATURES=settings.features_module,
        )
        if settings.redis_url:
            env["REDIS_URL"] = settings.redis_url
        if settings.alert_jsonl:
            env["SKEWLESS_ALERT_JSONL"] = str(settings.alert_jsonl)
    env.update(extra)
    return env


def migrate(airflow_home: Path) -> None:
    """``airflow db migrate`` into a fresh home (dag.test needs the metadata tables)."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        env=airflow_env(airflow_home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def run_dag(
    env: dict[str, str],
    dag_id: str,
    logical_date: datetime,
    conf: dict[str, Any] | None = None,
    log: Path | None = None,
    timeout: float = 1800,
) -> dict[str, Any]:
    """``dag.test()`` one run in a subprocess; its summary (state, task states, returns)."""
    args = [sys.executable, str(RUN_DAG), dag_id, logical_date.isoformat()]
    if conf is not None:
        args.append(json.dumps(conf))
    # Own session: on a timeout the spark-submit JVMs under it are stopped too, instead of
    # living on and writing into the next test's folders.
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(
            f"dag.test of {dag_id} ran over {timeout:.0f}s:\n{stdout[-5000:]}"
        ) from None
    done = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
    output = done.stdout + "\n" + done.stderr
    if log is not None:
        log.write_text(output, encoding="utf-8")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARK):
            return dict(json.loads(line[len(MARK) :]))
    raise AssertionError(f"dag.test of {dag_id} printed no result:\n{output[-5000:]}")


def run_deadline(
    env: dict[str, str], dag_id: str, run_type: str, logical_date: datetime, timeout: float = 300
) -> tuple[dict[str, Any], str]:
    """A run's freshness deadline driven the scheduler's way (``run_deadline.py``): its
    summary, and the script's output (the callback's log lines)."""
    args = [sys.executable, str(RUN_DEADLINE), dag_id, run_type, logical_date.isoformat()]
    done = subprocess.run(
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + "\n" + done.stderr
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(DEADLINE_MARK):
            return dict(json.loads(line[len(DEADLINE_MARK) :])), output
    raise AssertionError(f"run_deadline of {dag_id} printed no result:\n{output[-5000:]}")

"""Run a ``feature_jobs`` subcommand as a Spark job from Airflow.

Every Spark task is a ``SparkSubmitOperator`` against the ``spark_default`` connection
(``local[*]`` by default, ``spark://master:7077`` in docker-compose) submitting
``feature_jobs/spark_entry.py`` with the same arguments as ``python -m feature_jobs``.
Moving to a cluster is a connection change: nothing here names a master.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import RetryDecision, RetryPolicy, XComArg

from feature_jobs.jars import jar_paths
from feature_jobs.settings import Settings
from feature_jobs.spark.session import LOG4J_CONFIG

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SPARK_ENTRY = PROJECT_ROOT / "feature_jobs" / "spark_entry.py"
SPARK_CONN_ID = "spark_default"

#: Exit codes of SkewlessError (bad input: 2; validation failed or publish refused: 3).
#: Running the same job again gives the same answer, so retrying only delays the alert.
DETERMINISTIC_EXIT_CODES = frozenset({2, 3})
_EXIT_CODE = re.compile(r"Error code is: (\d+)")

#: Retries for transient failures (a lost executor, Redis restarting): 1 min, 2 min, 4 min...
RETRY_ARGS: dict[str, Any] = {
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=20),
}


class NoRetryOnBadData(RetryPolicy):
    """Fail at once when the job exited with a skewless error code; retry anything else."""

    def evaluate(
        self,
        exception: BaseException,
        try_number: int,
        max_tries: int,
        context: Any = None,
    ) -> RetryDecision:
        """Read spark-submit's exit code from the hook's error message."""
        match = _EXIT_CODE.search(str(exception))
        if match and int(match.group(1)) in DETERMINISTIC_EXIT_CODES:
            return RetryDecision.fail(
                f"feature_jobs exited with code {match.group(1)} (bad input or data); "
                "a retry would give the same result"
            )
        return RetryDecision.default()

    def serialize(self) -> dict[str, Any]:
        """Only the fact that a policy exists is stored; the worker evaluates this object."""
        return {"__type": type(self).__name__}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> NoRetryOnBadData:
        """Rebuild from :meth:`serialize` (the policy has no parameters)."""
        return cls()


def spark_conf() -> dict[str, str]:
    """Spark properties every skewless job is submitted with.

    The JVM flags must be given to spark-submit: the driver JVM is already running when
    the job's session builder would set them. The Python interpreter is the one Airflow
    runs in, so the driver and executors import the same packages as the DAGs.
    """
    java_opts = f"-Duser.timezone=UTC -Dlog4j.configurationFile=file:{LOG4J_CONFIG}"
    python = os.environ.get("PYSPARK_PYTHON") or sys.executable
    return {
        "spark.driver.extraJavaOptions": java_opts,
        "spark.executor.extraJavaOptions": java_opts,
        "spark.pyspark.python": python,
        "spark.pyspark.driver.python": python,
        "spark.executorEnv.PYTHONPATH": str(PROJECT_ROOT),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
    }


def job_env() -> dict[str, str]:
    """Environment of the spark-submit process: the project importable by its Python."""
    current = os.environ.get("PYTHONPATH", "")
    parts = [str(PROJECT_ROOT), *[p for p in current.split(os.pathsep) if p]]
    return {"PYTHONPATH": os.pathsep.join(dict.fromkeys(parts))}


def feature_job(
    task_id: str,
    args: Sequence[str] | XComArg,
    settings: Settings,
    *,
    name: str,
    **operator_kwargs: Any,
) -> SparkSubmitOperator:
    """A task running ``python -m feature_jobs <args>`` through spark-submit.

    Args:
        task_id: the task id (inside its task group).
        args: subcommand and flags (Jinja templates such as ``{{ ds }}`` are rendered), or
            the XCom of an upstream task that returns them.
        settings: where the Delta jars are.
        name: the Spark application name shown in the Spark UI.
        **operator_kwargs: any other BaseOperator argument (outlets, callbacks...).
    """
    return SparkSubmitOperator(
        task_id=task_id,
        conn_id=SPARK_CONN_ID,
        application=str(SPARK_ENTRY),
        # An XComArg is resolved to the upstream task's list when the task runs.
        application_args=args if isinstance(args, XComArg) else list(args),  # type: ignore[arg-type]
        jars=",".join(str(p) for p in jar_paths(settings.jars_dir)),
        conf=spark_conf(),
        env_vars=job_env(),
        name=name,
        retry_policy=NoRetryOnBadData(),
        **{**RETRY_ARGS, **operator_kwargs},
    )

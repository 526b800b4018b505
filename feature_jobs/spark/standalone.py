"""A Spark standalone cluster on this machine, started from the pyspark installation.

``make cluster-demo`` and the cluster test run the unchanged jobs against it with
``SPARK_MASTER=spark://127.0.0.1:<port>``: the driver ships the Delta jars to the
executors (``spark.jars``) and names the Python they run (``PYSPARK_PYTHON``, the
virtualenv's). The worker is started with ``PYTHONPATH`` pointing at the project, as the
Docker image's ``ENV PYTHONPATH`` does on a real cluster, so executors import the same
``feature_jobs`` as the driver. Everything binds to 127.0.0.1.

Example::

    with StandaloneCluster(Path("/tmp/cluster")) as cluster:
        os.environ["SPARK_MASTER"] = cluster.master_url
        ...
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType

import pyspark

from feature_jobs.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
START_TIMEOUT_S = 300.0


def spark_home() -> Path:
    """SPARK_HOME of the pip installation: the pyspark package folder."""
    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StandaloneCluster:
    """A master and one worker (``cores`` cores, ``memory`` of executor memory).

    Args:
        workdir: logs and the worker's application folders go here.
        cores: cores the worker offers.
        memory: memory the worker offers (``1g``); executors ask for ``spark.executor.memory``.
    """

    def __init__(self, workdir: Path, cores: int = 1, memory: str = "1g") -> None:
        self.workdir = workdir
        self.cores = cores
        self.memory = memory
        self.port = _free_port()
        self.ui_port = _free_port()
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def master_url(self) -> str:
        """``spark://127.0.0.1:<port>``."""
        return f"spark://127.0.0.1:{self.port}"

    def _launch(self, name: str, args: list[str]) -> None:
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_DAEMON_MEMORY": "384m",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        log = (self.workdir / f"{name}.log").open("wb")
        command = [str(spark_home() / "bin" / "spark-class"), *args]
        self.processes.append(
            subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        )

    def start(self) -> StandaloneCluster:
        """Start master and worker; return once the worker is registered with the master."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._launch(
            "master",
            ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
             "--port", str(self.port), "--webui-port", str(self.ui_port)],
        )  # fmt: skip
        self._launch(
            "worker",
            ["org.apache.spark.deploy.worker.Worker", self.master_url, "--host", "127.0.0.1",
             "--cores", str(self.cores), "--memory", self.memory,
             "--webui-port", str(_free_port()), "--work-dir", str(self.workdir / "work")],
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.alive_workers() < 1:
            if any(p.poll() is not None for p in self.processes) or time.monotonic() > deadline:
                self.stop()
                raise ConfigError(
                    f"the standalone cluster did not come up; see {self.workdir}/master.log "
                    "and worker.log"
                )
            time.sleep(0.5)
        return self

    def status(self) -> dict[str, object]:
        """The master's JSON status (workers, running and completed applications)."""
        url = f"http://127.0.0.1:{self.ui_port}/json/"
        with urllib.request.urlopen(url, timeout=5) as response:
            data = json.loads(response.read())
        return data if isinstance(data, dict) else {}

    def completed_apps(self, timeout_s: float = 0.0) -> list[str]:
        """Names of the applications that finished (waits up to ``timeout_s`` for one)."""
        deadline = time.monotonic() + timeout_s
        while True:
            apps = self.status().get("completedapps", [])
            names = (
                [str(a.get("name")) for a in apps if isinstance(a, dict)]
                if isinstance(apps, list)
                else []
            )
            if names or time.monotonic() >= deadline:
                return names
            time.sleep(0.5)

    def alive_workers(self) -> int:
        """Workers the master sees as ALIVE (0 while it is starting)."""
        try:
            workers = self.status().get("workers", [])
        except OSError:
            return 0
        if not isinstance(workers, list):
            return 0
        return sum(1 for w in workers if isinstance(w, dict) and w.get("state") == "ALIVE")

    def stop(self) -> None:
        """Stop the worker, then the master (they were started by this object only)."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30)
        self.processes.clear()

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

"""``make airflow``: Airflow standalone with the skewless DAGs on a free port.

Starts ``airflow standalone`` (SQLite metadata DB, LocalExecutor, scheduler, DAG processor,
triggerer and API server) with:

* the project's ``dags/`` folder and the project on ``PYTHONPATH``;
* the project's ``plugins/`` folder: a "Catalog" link in the navigation bar
  (to ``SKEWLESS_CATALOG_URL``, default ``http://127.0.0.1:8000/catalog``);
* the ``spark_default`` connection (``local[*]`` unless ``AIRFLOW_CONN_SPARK_DEFAULT`` is
  set), so the DAGs' spark-submit jobs run on this machine;
* a local data root (``SKEWLESS_DATA_ROOT``, default ``./data``);
* a login (user ``admin``, password from ``SKEWLESS_AIRFLOW_PASSWORD`` or generated);
* ``[api] base_url`` with the chosen port: the task workers reach the execution API
  through it, and with the default URL they would call a port nobody listens on.

It prints the URL and the login once the API server answers, then runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER = "admin"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def standalone_env(home: Path, port: int, data_root: Path, password: str) -> dict[str, str]:
    """The environment ``airflow standalone`` runs with (written login file included)."""
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: password}), encoding="utf-8")
    passwords.chmod(0o600)
    python_bin = Path(sys.executable).parent
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__BASE_URL=f"http://localhost:{port}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{port}/execution/",
        # One task at a time: Spark jobs share the machine's cores.
        AIRFLOW__CORE__PARALLELISM=env.get("AIRFLOW__CORE__PARALLELISM", "2"),
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="30",
        SKEWLESS_DATA_ROOT=str(data_root),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        PATH=os.pathsep.join([str(python_bin), env.get("PATH", "")]),
        PYSPARK_PYTHON=env.get("PYSPARK_PYTHON", sys.executable),
        TZ="UTC",
    )
    env.setdefault(
        "AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": "local[*]"})
    )
    return env


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll the API server's health endpoint until it answers (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"airflow standalone exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(2)
    raise SystemExit(f"Airflow did not answer on {url} within {timeout:.0f}s")


def main(argv: list[str] | None = None) -> int:
    """Start Airflow standalone, print URL and login, wait until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="API/UI port (default: a free one)")
    parser.add_argument("--home", default=str(ROOT / ".airflow"), help="AIRFLOW_HOME")
    parser.add_argument(
        "--data-root",
        default=os.environ.get("SKEWLESS_DATA_ROOT", str(ROOT / "data")),
        help="SKEWLESS_DATA_ROOT of the jobs (default ./data)",
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for start")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # a plain `kill` also stops Airflow
    port = args.port or free_port()
    password = os.environ.get("SKEWLESS_AIRFLOW_PASSWORD") or secrets.token_urlsafe(12)
    home, data_root = Path(args.home).resolve(), Path(args.data_root).resolve()
    env = standalone_env(home, port, data_root, password)
    url = f"http://localhost:{port}"
    print(f"starting Airflow standalone in {home} (data root {data_root}) ...", flush=True)
    log = (home / "standalone.log").open("ab")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "airflow"), "standalone"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_up(url, process, args.timeout)
        print(f"Airflow is up: {url}", flush=True)
        print(f"login: {USER} / {password}", flush=True)
        print(f"logs: {home / 'standalone.log'}; stop with Ctrl-C", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())

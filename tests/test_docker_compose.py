"""docker-compose.yml holds the deployment the README describes.

No Docker engine runs here, and the Docker client installed has no compose plugin, so
``docker compose config`` cannot validate the file; this test parses the YAML (anchors
and merge keys resolved, as compose resolves them) and checks the services, the shared
Delta volume and the environment wiring the deployment depends on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def _env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment with ``${VAR:-default}`` replaced by the default."""
    env = service.get("environment") or {}
    return {k: _DEFAULT.sub(lambda m: m.group(2), str(v)) for k, v in env.items()}


def test_every_service_of_the_deployment_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {
        "postgres", "redis", "spark-master", "spark-worker", "airflow-init", *AIRFLOW_SERVICES,
    }  # fmt: skip
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == [command]
    assert services["postgres"]["image"].startswith("postgres:")
    assert "org.apache.spark.deploy.master.Master" in services["spark-master"]["command"]
    worker = services["spark-worker"]["command"]
    assert "org.apache.spark.deploy.worker.Worker" in worker
    assert worker[-1] == "spark://spark-master:7077"
    assert "airflow db migrate" in services["airflow-init"]["command"][0]


def test_one_image_with_java_and_the_requirements(compose: dict[str, Any]) -> None:
    services = compose["services"]
    built = {"spark-master", "spark-worker", "airflow-init", *AIRFLOW_SERVICES}
    for name in built:
        assert services[name]["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}
        assert services[name]["image"] == "skewless:latest"
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert re.search(r"^FROM \$\{AIRFLOW_IMAGE\}", dockerfile, re.M)
    assert "ARG AIRFLOW_IMAGE=apache/airflow:3.3.2" in dockerfile
    assert "default-jre-headless" in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt -c constraints.txt" in dockerfile
    assert "python -m feature_jobs.jars" in dockerfile
    for folder in ("feature_jobs", "features", "schemas", "dags"):
        assert f"COPY --chown=airflow:root {folder} ./{folder}" in dockerfile


def test_redis_requires_a_password_and_clients_send_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    command = services["redis"]["command"]
    password = _DEFAULT.sub(lambda m: m.group(2), command[command.index("--requirepass") + 1])
    assert password
    for name in ("spark-worker", *AIRFLOW_SERVICES):
        assert _env(services[name])["REDIS_URL"] == f"redis://:{password}@redis:6379/0"


def test_delta_root_is_one_volume_shared_by_driver_and_executors(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert "delta-data" in compose["volumes"]
    # The scheduler runs the tasks (LocalExecutor), i.e. the Spark driver; the worker
    # runs the executors. Both write Delta files, so both mount the same volume.
    for name in ("airflow-scheduler", "spark-worker"):
        assert "delta-data:/data" in services[name]["volumes"]
        env = _env(services[name])
        assert env["SKEWLESS_DATA_ROOT"] == "/data"
        assert env["DELTA_ROOT"] == "/data/warehouse"


def test_airflow_is_wired_to_postgres_spark_and_its_api(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres_password = _env(services["postgres"])["POSTGRES_PASSWORD"]
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        env = _env(services[name])
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
            f"postgresql+psycopg2://airflow:{postgres_password}@postgres:5432/airflow"
        )
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["SPARK_MASTER"] == "spark://spark-master:7077"
        spark = json.loads(env["AIRFLOW_CONN_SPARK_DEFAULT"])
        assert (spark["conn_type"], spark["host"], spark["port"]) == (
            "spark", "spark://spark-master", 7077,
        )  # fmt: skip
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        )
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"]
    scheduler = services["airflow-scheduler"]
    assert scheduler["hostname"] == _env(scheduler)["SPARK_DRIVER_HOST"] == "airflow-scheduler"
    assert services["airflow-apiserver"]["ports"] == ["8080:8080"]
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["airflow-init"]["condition"] == "service_completed_successfully"

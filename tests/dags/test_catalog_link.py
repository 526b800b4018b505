"""The feature catalog's link in the Airflow UI: the plugin Airflow loads, its setting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from feature_jobs.airflow_support.catalog_link import (
    DEFAULT_CATALOG_URL,
    catalog_external_view,
    catalog_url,
)
from feature_jobs.errors import ConfigError
from tests.dags.harness import ROOT, airflow_env


def test_airflow_loads_the_plugin_with_the_catalog_link(tmp_path: Path) -> None:
    # Airflow's own CLI, with the plugins folder `make airflow` and docker-compose set.
    env = airflow_env(
        tmp_path / "airflow",
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        SKEWLESS_CATALOG_URL="http://catalog.internal:9000/catalog",
    )
    done = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "plugins", "--output", "json"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [plugin] = json.loads(done.stdout[done.stdout.index("[") :])
    assert plugin["name"] == "skewless"
    assert plugin["source"] == "$PLUGINS_FOLDER/skewless.py"
    assert plugin["external_views"] == [
        {
            "name": "Catalog",
            "href": "http://catalog.internal:9000/catalog",
            "destination": "nav",
        }
    ]


def test_the_link_defaults_to_where_serve_listens() -> None:
    assert catalog_url({}) == DEFAULT_CATALOG_URL == "http://127.0.0.1:8000/catalog"
    assert catalog_url({"SKEWLESS_CATALOG_URL": ""}) == DEFAULT_CATALOG_URL
    assert catalog_external_view({})["href"] == DEFAULT_CATALOG_URL


@pytest.mark.parametrize("url", ["catalog", "ftp://host/catalog", "javascript:alert(1)", "http://"])
def test_a_catalog_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"SKEWLESS_CATALOG_URL=.* is not an http\(s\) URL"):
        catalog_url({"SKEWLESS_CATALOG_URL": url})

"""Fixtures of the Airflow tests: one migrated Airflow home for the session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.dags.harness import migrate


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh AIRFLOW_HOME with a migrated SQLite metadata DB (a few seconds, once)."""
    home = tmp_path_factory.mktemp("airflow_home")
    migrate(home)
    return home


# Tests here import Airflow in the pytest process too (callbacks, retry policy): give it
# a home of its own instead of ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="skewless_airflow_home_"))

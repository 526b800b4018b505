"""Fixtures of the Airflow tests: one migrated Airflow home for the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dags.harness import migrate


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh AIRFLOW_HOME with a migrated SQLite metadata DB (a few seconds, once)."""
    home = tmp_path_factory.mktemp("airflow_home")
    migrate(home)
    return home

"""Airflow plugin of skewless: a "Catalog" link (the feature catalog) in the navigation bar.

Airflow loads it from its plugins folder (``[core] plugins_folder``, set by ``make
airflow`` and docker-compose to this folder). The link's target is
``SKEWLESS_CATALOG_URL`` (default ``http://127.0.0.1:8000/catalog``), read when the API
server starts; see ``feature_jobs/airflow_support/catalog_link.py``.
"""

from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin

from feature_jobs.airflow_support.catalog_link import catalog_external_view


class SkewlessPlugin(AirflowPlugin):
    """The feature catalog, one click from the DAGs that fill it."""

    name = "skewless"
    external_views = [catalog_external_view(os.environ)]  # noqa: RUF012 (Airflow's API)

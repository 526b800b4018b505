"""The feature catalog's link in the Airflow UI (the ``skewless`` Airflow plugin).

``python -m feature_jobs serve`` serves the feature catalog at ``/catalog``: every view's
owner, cadence, freshness, what is live online and its profiles over time. The plugin in
``plugins/skewless.py`` adds a "Catalog" entry to Airflow's navigation bar that
opens it. Where the catalog runs is a setting of the deployment, not of the DAGs:
``SKEWLESS_CATALOG_URL`` (default ``http://127.0.0.1:8000/catalog``, where ``serve``
listens by default). No Airflow import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from feature_jobs.errors import ConfigError

DEFAULT_CATALOG_URL = "http://127.0.0.1:8000/catalog"
#: The name of the navigation entry (and of the external view).
#: Short: the navigation bar cuts names after about nine characters.
CATALOG_LINK_NAME = "Catalog"


def catalog_url(env: Mapping[str, str]) -> str:
    """``SKEWLESS_CATALOG_URL``: an absolute http(s) URL (unset or empty: the default)."""
    url = (env.get("SKEWLESS_CATALOG_URL") or DEFAULT_CATALOG_URL).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"SKEWLESS_CATALOG_URL={url!r} is not an http(s) URL; give one such as "
            f"{DEFAULT_CATALOG_URL}"
        )
    return url


def catalog_external_view(env: Mapping[str, str]) -> dict[str, Any]:
    """The Airflow 3 external view: a top-level navigation entry linking to the catalog.

    Without ``url_route`` Airflow opens ``href`` itself (a new tab) instead of embedding
    it, so the catalog keeps its own address and the link works wherever it is served.
    """
    return {"name": CATALOG_LINK_NAME, "href": catalog_url(env), "destination": "nav"}


def catalog_doc_md(env: Mapping[str, str]) -> str:
    """The paragraph each DAG's doc ends with: where to see the features it computes.

    Never raises: a wrong ``SKEWLESS_CATALOG_URL`` is named here (and refused by the
    plugin) rather than breaking every DAG for a link.
    """
    try:
        url = catalog_url(env)
    except ConfigError as exc:
        return f"\n**Feature catalog:** no link: {exc}\n"
    return (
        f"\n**Feature catalog:** [{url}]({url}) (every view's owner, freshness, what is live "
        "online and its profiles over time; served by `python -m feature_jobs serve`, and "
        f"linked as *{CATALOG_LINK_NAME}* in Airflow's navigation bar).\n"
    )

"""Run the HTTP API with uvicorn (one process; uvloop and httptools when installed)."""

from __future__ import annotations

import gc

from feature_jobs.offline.catalog_reads import CatalogReads
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.app import create_app
from feature_jobs.serving.catalog import Catalog
from feature_jobs.serving.limits import Limits
from feature_jobs.settings import Settings

#: Seconds a request waits for Redis to connect or answer before it gets 503.
DEFAULT_REDIS_TIMEOUT_S = 1.0


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: Limits | None = None,
    redis_timeout: float = DEFAULT_REDIS_TIMEOUT_S,
) -> None:
    """Serve ``POST /online-features`` and the catalog pages until interrupted.

    Args:
        settings: the project, ``REDIS_URL`` (unset: the embedded server, followed when it
            restarts) and the definitions module.
        host: address to bind.
        port: port to listen on.
        limits: what one request may ask for (:class:`Limits` defaults when omitted).
        redis_timeout: seconds a request waits for Redis before it gets 503.
    """
    import uvicorn

    store = FeatureStore(settings, timeout=redis_timeout)
    catalog = Catalog(store, CatalogReads(settings))
    # Read the catalog's tables once now: the first page would otherwise pay the imports
    # and first reads (a second or two).
    catalog.warm()
    app = create_app(store, limits=limits, catalog=catalog)
    # Everything built so far (modules, the app, pydantic's schemas) lives as long as the
    # process: frozen, the garbage collector stops re-scanning it on every full
    # collection, which otherwise lands as a multi-millisecond stall on some request.
    gc.collect()
    gc.freeze()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        store.close()

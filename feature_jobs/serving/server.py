"""Run the HTTP API with uvicorn (one process; uvloop and httptools when installed)."""

from __future__ import annotations

import gc

from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.app import DEFAULT_MAX_ENTITIES, create_app
from feature_jobs.settings import Settings


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_entities: int = DEFAULT_MAX_ENTITIES,
) -> None:
    """Serve ``POST /online-features`` until interrupted."""
    import uvicorn

    store = FeatureStore(settings)
    app = create_app(store, max_entities=max_entities)
    # Everything built so far (modules, the app, pydantic's schemas) lives as long as the
    # process: frozen, the garbage collector stops re-scanning it on every full
    # collection, which otherwise lands as a multi-millisecond stall on some request.
    gc.collect()
    gc.freeze()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        store.close()

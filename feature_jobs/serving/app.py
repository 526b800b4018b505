"""The HTTP API: ``POST /online-features``, ``GET /healthz``, OpenAPI at ``/openapi.json``;
and the feature catalog's HTML pages, ``GET /catalog`` and ``/catalog/<view>``
(:mod:`feature_jobs.serving.catalog`).

Request::

    {"features": ["user_transaction_stats:txn_count_7d"], "entities": [{"user_id": 42}]}
    {"feature_service": "fraud_model_v1", "entities": [{"user_id": 42, "merchant_id": 7}]}

Response (one result per entity, in request order; values aligned with ``features``)::

    {"features": [...], "results": [{"entity": {...}, "values": [...],
     "statuses": ["PRESENT", ...], "feature_ts": ["2024-03-02T00:00:00Z", ...]}]}

Errors: 422 for an invalid request (unknown feature or service, missing or mistyped join
key, a feature asked twice, bad body), 413 for a request over the server's
:class:`~feature_jobs.serving.limits.Limits`, 503 when Redis is down or does not answer
within the store's timeout. Every error body is ``{"detail": "<one line>"}`` quoting input
by its first characters only.

Redis calls are blocking: they run in worker threads, never on the event loop, so a
stalled Redis costs each request its timeout and leaves the server answering.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from feature_jobs.errors import OnlineRequestError, OnlineStoreError
from feature_jobs.offline.catalog_reads import CatalogReads
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.catalog import Catalog, add_catalog
from feature_jobs.serving.limits import (
    BodyLimit,
    Limits,
    RequestTooLarge,
    check_request,
    check_service_name,
    clip,
    validation_detail,
)

#: Seconds ``/healthz`` waits for Redis before answering 503.
HEALTHZ_TIMEOUT_S = 0.5


class OnlineFeaturesRequest(BaseModel):
    """Features to read (a list or a feature service) and the entities to read them for."""

    model_config = ConfigDict(extra="forbid")

    features: list[str] | None = Field(
        default=None, description='"view:feature" references', examples=[["v:f"]]
    )
    feature_service: str | None = Field(default=None, description="a feature service name")
    entities: list[dict[str, Any]] = Field(
        description="one object per entity with its join keys", examples=[[{"user_id": 42}]]
    )


class EntityResult(BaseModel):
    """The served values of one entity, aligned with the response's ``features``."""

    entity: dict[str, Any]
    values: list[Any]
    statuses: list[str] = Field(description="PRESENT, MISSING or STALE per feature")
    feature_ts: list[str | None] = Field(description="snapshot time served, per feature")


class OnlineFeaturesResponse(BaseModel):
    """The response body of ``POST /online-features``."""

    features: list[str]
    results: list[EntityResult]


class ErrorBody(BaseModel):
    """An error: one line saying what was wrong and how to fix it."""

    detail: str


class _HealthProbe:
    """PING within a budget: the answer never waits for Redis longer than that.

    The PING runs in a worker thread that is abandoned when the budget runs out (it ends
    at the store's own timeout); at most two such threads wait on Redis at once, later
    probes report the stall without starting another.
    """

    def __init__(self, store: FeatureStore, budget: float) -> None:
        self._store = store
        self._budget = budget
        self._waiting = threading.BoundedSemaphore(2)
        self._limiter: anyio.CapacityLimiter | None = None

    def _ping(self) -> bool:
        if not self._waiting.acquire(blocking=False):
            return False
        try:
            self._store.ping()
        finally:
            self._waiting.release()
        return True

    async def problem(self) -> str | None:
        """None when Redis answered in time, else what is wrong (OnlineStoreError if it
        refused)."""
        # Its own threads: /healthz must not queue behind requests stuck on Redis.
        self._limiter = self._limiter or anyio.CapacityLimiter(4)
        answered = False
        with anyio.move_on_after(self._budget):
            answered = await anyio.to_thread.run_sync(
                self._ping, abandon_on_cancel=True, limiter=self._limiter
            )
        if answered:
            return None
        return (
            f"Redis at {self._store.url} did not answer within {self._budget:g} s; check "
            "that the server is not stopped or overloaded"
        )


def create_app(
    store: FeatureStore,
    *,
    limits: Limits | None = None,
    healthz_timeout: float = HEALTHZ_TIMEOUT_S,
    catalog: Catalog | None = None,
) -> FastAPI:
    """The FastAPI application serving ``store``.

    Args:
        store: the SDK instance every request goes through (one Redis round trip each).
        limits: what one request may ask for (:class:`Limits` defaults when omitted).
        healthz_timeout: seconds ``/healthz`` waits for Redis before answering 503.
        catalog: the catalog pages' reads (of ``store``'s warehouse when omitted).
    """
    limits = limits or Limits()
    catalog = catalog or Catalog(store, CatalogReads(store.settings))
    probe = _HealthProbe(store, healthz_timeout)
    app = FastAPI(
        title="skewless online features",
        version="1",
        description="Latest feature snapshots from Redis, with the same max_age / on_stale "
        "/ default rule as the training join.",
    )

    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)

    @app.exception_handler(OnlineRequestError)
    def _bad_request(_: Request, exc: OnlineRequestError) -> JSONResponse:
        status = 413 if isinstance(exc, RequestTooLarge) else 422
        return JSONResponse({"detail": clip(str(exc))}, status_code=status)

    @app.exception_handler(RequestValidationError)
    def _bad_body(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler returns every error with its "input": the body echoed.
        return JSONResponse({"detail": validation_detail(exc.errors())}, status_code=422)

    @app.exception_handler(OnlineStoreError)
    def _store_down(_: Request, exc: OnlineStoreError) -> JSONResponse:
        return JSONResponse({"detail": clip(str(exc))}, status_code=503)

    @app.post(
        "/online-features",
        response_model=OnlineFeaturesResponse,
        responses={
            413: {"model": ErrorBody, "description": "over the server's limits"},
            422: {"model": ErrorBody, "description": "invalid request"},
            503: {"model": ErrorBody, "description": "Redis unavailable or not answering"},
        },
    )
    def online_features(request: OnlineFeaturesRequest) -> Response:
        """Read features for a batch of entities as they are served now."""
        # A plain function: FastAPI runs it in a worker thread, so the blocking Redis call
        # never holds the event loop (a frozen Redis would stall every request behind it).
        if (request.features is None) == (request.feature_service is None):
            raise OnlineRequestError('give exactly one of "features" or "feature_service"')
        service_size = None
        if request.feature_service is not None:
            check_service_name(request.feature_service)
            service = store.registry.services.get(request.feature_service)
            service_size = len(service.features) if service is not None else None
        check_request(request.features, service_size, len(request.entities), limits)
        wanted = request.feature_service if request.features is None else request.features
        assert wanted is not None  # exactly one of the two is set, checked above
        response = store.get_online_features(wanted, request.entities)
        # Serialized here, not by FastAPI: the body is already plain JSON-ready data.
        return Response(response.to_json().encode(), media_type="application/json")

    @app.get("/healthz", responses={503: {"model": ErrorBody}})
    async def healthz() -> Any:
        """200 when Redis answers within the health budget, else 503 saying what is wrong."""
        problem = await probe.problem()
        if problem is not None:
            return JSONResponse({"detail": problem}, status_code=503)
        return {"status": "ok"}

    add_catalog(app, catalog)
    return app

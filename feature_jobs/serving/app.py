"""The HTTP API: ``POST /online-features``, ``GET /healthz``, OpenAPI at ``/openapi.json``.

Request::

    {"features": ["user_transaction_stats:txn_count_7d"], "entities": [{"user_id": 42}]}
    {"feature_service": "fraud_model_v1", "entities": [{"user_id": 42, "merchant_id": 7}]}

Response (one result per entity, in request order; values aligned with ``features``)::

    {"features": [...], "results": [{"entity": {...}, "values": [...],
     "statuses": ["PRESENT", ...], "feature_ts": ["2024-03-02T00:00:00Z", ...]}]}

Errors: 422 for an invalid request (unknown feature or service, missing or mistyped join
key, bad body), 413 for more entities than the server accepts, 503 when Redis is down.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from feature_jobs.errors import OnlineRequestError, OnlineStoreError
from feature_jobs.online.store import FeatureStore

#: Entities one request may carry unless the server is started with another limit.
DEFAULT_MAX_ENTITIES = 10_000


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


def create_app(store: FeatureStore, *, max_entities: int = DEFAULT_MAX_ENTITIES) -> FastAPI:
    """The FastAPI application serving ``store``.

    Args:
        store: the SDK instance every request goes through (one Redis round trip each).
        max_entities: largest batch accepted; larger requests get 413.
    """
    app = FastAPI(
        title="skewless online features",
        version="1",
        description="Latest feature snapshots from Redis, with the same max_age / on_stale "
        "/ default rule as the training join.",
    )

    @app.exception_handler(OnlineRequestError)
    def _bad_request(_: Request, exc: OnlineRequestError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(OnlineStoreError)
    def _store_down(_: Request, exc: OnlineStoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.post(
        "/online-features",
        response_model=OnlineFeaturesResponse,
        responses={
            413: {"model": ErrorBody, "description": "too many entities"},
            422: {"model": ErrorBody, "description": "invalid request"},
            503: {"model": ErrorBody, "description": "Redis unavailable"},
        },
    )
    async def online_features(request: OnlineFeaturesRequest) -> Response:
        """Read features for a batch of entities as they are served now."""
        # Called inline, not in a worker thread: the read is one Redis round trip (about
        # 0.1 ms), cheaper than the thread hand-off; the socket timeout bounds a stall.
        if (request.features is None) == (request.feature_service is None):
            raise OnlineRequestError('give exactly one of "features" or "feature_service"')
        if len(request.entities) > max_entities:
            return JSONResponse(
                {
                    "detail": f"{len(request.entities)} entities in one request; the limit is "
                    f"{max_entities}: split the batch (or start serve with --max-entities)"
                },
                status_code=413,
            )
        wanted = request.feature_service if request.features is None else request.features
        assert wanted is not None  # exactly one of the two is set, checked above
        response = store.get_online_features(wanted, request.entities)
        # Serialized here, not by FastAPI: the body is already plain JSON-ready data.
        return Response(response.to_json().encode(), media_type="application/json")

    @app.get("/healthz", responses={503: {"model": ErrorBody}})
    async def healthz() -> dict[str, str]:
        """200 when Redis answers."""
        store.ping()
        return {"status": "ok"}

    return app

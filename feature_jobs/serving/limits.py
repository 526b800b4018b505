"""What one HTTP request may ask for, and error bodies that never echo large input.

A request is refused, before any Redis work, when it is over one of the :class:`Limits`
(413) or names a feature twice (422). The body cap holds before the body is parsed: a
declared ``Content-Length`` over it is refused without reading the body, and a body sent
without one (chunked) is counted as it arrives and refused as soon as it passes the cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feature_jobs.errors import ConfigError, OnlineRequestError

#: Longest ``view:feature`` reference or feature service name a request may hold.
MAX_NAME_CHARS = 256
#: Longest error detail returned; input is quoted by its first characters only.
MAX_DETAIL_CHARS = 500


@dataclass(frozen=True)
class Limits:
    """Caps on one ``POST /online-features`` request (``serve`` flags of the same names).

    Attributes:
        max_body_bytes: largest request body (``--max-body-bytes``).
        max_features: most features in ``features`` (``--max-features``).
        max_entities: most entities (``--max-entities``).
        max_values: most values in the response, entities x features (``--max-values``).
    """

    max_body_bytes: int = 4 * 1024 * 1024
    max_features: int = 1_000
    max_entities: int = 10_000
    max_values: int = 1_000_000

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} {value!r}: give a positive whole number")


class RequestTooLarge(OnlineRequestError):
    """A request over one of the server's :class:`Limits` (HTTP 413)."""


def check_request(
    features: Sequence[str] | None, service_size: int | None, entities: int, limits: Limits
) -> None:
    """Refuse a request over the limits or naming a feature twice, before reading Redis.

    Args:
        features: the ``features`` of the request, or None when it names a service.
        service_size: the number of features of the named service (None if unknown).
        entities: the number of entities.
        limits: the server's limits.

    Raises:
        RequestTooLarge: too many features, entities or values.
        OnlineRequestError: a name too long to be one, or a feature asked twice.
    """
    if features is not None and len(features) > limits.max_features:
        raise RequestTooLarge(
            f"{len(features)} features in one request; the limit is {limits.max_features}: "
            "split the request (or start serve with --max-features)"
        )
    if entities > limits.max_entities:
        raise RequestTooLarge(
            f"{entities} entities in one request; the limit is {limits.max_entities}: split "
            "the batch (or start serve with --max-entities)"
        )
    seen: dict[str, int] = {}
    for i, ref in enumerate(features or ()):
        if len(ref) > MAX_NAME_CHARS:
            raise OnlineRequestError(
                f"features[{i}] is {len(ref)} characters long; a view:feature reference has "
                f"at most {MAX_NAME_CHARS}"
            )
        first = seen.setdefault(ref.strip(), i)
        if first != i:
            raise OnlineRequestError(
                f"feature {ref.strip()!r} is requested twice (features[{first}] and "
                f"features[{i}]); ask for each feature once"
            )
    width = len(features) if features is not None else service_size or 0
    if width * entities > limits.max_values:
        raise RequestTooLarge(
            f"{entities} entities x {width} features = {width * entities} values in one "
            f"request; the limit is {limits.max_values}: send fewer entities per request "
            "(or start serve with --max-values)"
        )


def check_service_name(name: str) -> None:
    """Refuse a feature service name too long to be one (it would be echoed back)."""
    if len(name) > MAX_NAME_CHARS:
        raise OnlineRequestError(
            f"feature_service is {len(name)} characters long; a service name has at most "
            f"{MAX_NAME_CHARS}"
        )


def clip(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """``text`` on one line and at most about ``limit`` characters (its head kept)."""
    line = " ".join(text.split("\n"))
    if len(line) <= limit:
        return line
    return f"{line[:limit]}... ({len(line)} characters in all)"


def validation_detail(errors: Sequence[Any]) -> str:
    """One line for a body that does not match the schema, without the input itself."""
    if not errors:
        return "invalid request body; see /docs for the schema"
    first = errors[0]
    where = ".".join(clip(str(part), 40) for part in first.get("loc", ())) or "body"
    message = str(first.get("msg", "invalid"))
    cause = (first.get("ctx") or {}).get("error")
    if cause is not None:
        message = f"{message} ({clip(str(cause), 100)})"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return clip(f"invalid request at {where}: {message}{more}; see /docs for the schema")


class BodyLimit:
    """ASGI middleware refusing request bodies over ``max_bytes`` with 413, unparsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, size: str) -> str:
        return (
            f"request body of {size}; the limit is {self.max_bytes} bytes: send fewer "
            "entities per request (or start serve with --max-body-bytes)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            # Refused on the header alone: the body is never read.
            response = JSONResponse(
                {"detail": self._too_large(f"{int(declared)} bytes")}, status_code=413
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises an HTTPException met while it reads the body.
                    raise HTTPException(413, self._too_large(f"over {self.max_bytes} bytes"))
            return message

        await self.app(scope, counted, send)

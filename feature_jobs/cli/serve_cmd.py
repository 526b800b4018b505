"""``serve``: the HTTP API for online features."""

from __future__ import annotations

import argparse

from feature_jobs.cli.common import say
from feature_jobs.errors import UnsafeInputError
from feature_jobs.serving.app import DEFAULT_MAX_ENTITIES
from feature_jobs.serving.server import serve
from feature_jobs.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "serve",
        help="HTTP API: POST /online-features, GET /healthz, /docs",
        description="Serve online features over HTTP: POST /online-features with "
        '{"features": [...] or "feature_service": name, "entities": [{...}]}. The OpenAPI '
        "spec is at /openapi.json and interactive docs at /docs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--max-entities",
        type=int,
        default=DEFAULT_MAX_ENTITIES,
        help=f"largest batch accepted (default {DEFAULT_MAX_ENTITIES}); larger ones get 413",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not 0 < args.port < 65536:
        raise UnsafeInputError(f"--port {args.port} is not a TCP port; give 1-65535")
    if args.max_entities < 1:
        raise UnsafeInputError(f"--max-entities {args.max_entities}: give a positive number")
    say(f"serving online features on http://{args.host}:{args.port} (docs at /docs)")
    serve(settings, args.host, args.port, args.max_entities)
    return 0

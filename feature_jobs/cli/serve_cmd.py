"""``serve``: the HTTP API for online features, and the feature catalog pages."""

from __future__ import annotations

import argparse
import math

from feature_jobs.cli.common import say
from feature_jobs.errors import UnsafeInputError
from feature_jobs.serving.limits import Limits
from feature_jobs.serving.server import DEFAULT_REDIS_TIMEOUT_S, serve
from feature_jobs.settings import Settings

_DEFAULTS = Limits()


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "serve",
        help="HTTP API: POST /online-features, GET /healthz, /docs; feature catalog at /catalog",
        description="Serve online features over HTTP: POST /online-features with "
        '{"features": [...] or "feature_service": name, "entities": [{...}]}. The OpenAPI '
        "spec is at /openapi.json and interactive docs at /docs. A request over a limit "
        "gets 413, one naming a feature twice 422; /healthz answers 503 when Redis does "
        "not answer within 0.5 s. The feature catalog is at /catalog: every view with its "
        "owner, version, last materialized date, what is live online and how fresh, and "
        "charts of its snapshots' row counts, null rates and drift with the quarantined "
        "days marked (/catalog/<view>); it reads Delta without Spark.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--max-entities",
        type=int,
        default=_DEFAULTS.max_entities,
        help=f"most entities in one request (default {_DEFAULTS.max_entities})",
    )
    parser.add_argument(
        "--max-features",
        type=int,
        default=_DEFAULTS.max_features,
        help=f"most features in one request's list (default {_DEFAULTS.max_features})",
    )
    parser.add_argument(
        "--max-values",
        type=int,
        default=_DEFAULTS.max_values,
        help=f"most values in one response, entities x features (default {_DEFAULTS.max_values})",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=_DEFAULTS.max_body_bytes,
        help=f"largest request body, refused before it is parsed (default "
        f"{_DEFAULTS.max_body_bytes} = 4 MiB)",
    )
    parser.add_argument(
        "--redis-timeout",
        type=float,
        default=DEFAULT_REDIS_TIMEOUT_S,
        help="seconds a request waits for Redis to connect or answer before it gets 503 "
        f"(default {DEFAULT_REDIS_TIMEOUT_S:g})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not 0 < args.port < 65536:
        raise UnsafeInputError(f"--port {args.port} is not a TCP port; give 1-65535")
    if not (math.isfinite(args.redis_timeout) and 0 < args.redis_timeout <= 60):
        raise UnsafeInputError(
            f"--redis-timeout {args.redis_timeout:g}: give seconds between 0 and 60, e.g. 1"
        )
    limits = Limits(  # ConfigError naming the flag for a limit under 1
        max_body_bytes=args.max_body_bytes,
        max_features=args.max_features,
        max_entities=args.max_entities,
        max_values=args.max_values,
    )
    base = f"http://{args.host}:{args.port}"
    say(f"serving online features on {base} (docs at /docs, feature catalog at {base}/catalog)")
    serve(settings, args.host, args.port, limits, args.redis_timeout)
    return 0

"""``python -m feature_jobs``: the command line the DAGs and people both use.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds the
parser and sets ``handler`` to a function ``(args, settings) -> int``. Errors a user can
cause are :class:`SkewlessError` and print as one line; the exit code is non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from importlib import import_module

from feature_jobs.errors import SkewlessError
from feature_jobs.redaction import install_log_redaction, redact_text
from feature_jobs.settings import Settings

#: Modules under feature_jobs.cli, one per subcommand, in the order --help lists them.
COMMAND_MODULES = [
    "demo_cmd",
    "list_cmd",
    "materialize_cmd",
    "training_set_cmd",
    "sync_cmd",
    "get_cmd",
    "serve_cmd",
    "check_cmd",
    "vacuum_cmd",
]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered (or just the module ``only``).

    Registering a command imports its module and what that needs (FastAPI for ``serve``,
    redis for ``sync``...): most of a second altogether, which a command that runs one
    Spark job should not pay for the others.
    """
    parser = argparse.ArgumentParser(
        prog="python -m feature_jobs",
        description="skewless: define features once, compute them once with Spark into "
        "Delta Lake, validate them with Pandera, serve the latest snapshot from Redis.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES if only is None else [only]:
        import_module(f"feature_jobs.cli.{name}").register(subparsers)
    return parser


def command_module(argv: Sequence[str]) -> str | None:
    """The module of the subcommand ``argv`` names, or None (top-level help, a typo)."""
    if not argv or argv[0].startswith("-"):
        return None
    name = f"{argv[0].replace('-', '_')}_cmd"
    return name if name in COMMAND_MODULES else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=command_module(arguments))
    args = parser.parse_args(arguments)
    install_log_redaction()  # credentials come from the environment; never print them
    try:
        settings = Settings.from_env()
        return int(args.handler(args, settings))
    except SkewlessError as exc:
        print(f"error: {redact_text(str(exc))}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; nothing was published by the unfinished step", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("SKEWLESS_DEBUG"):
            traceback.print_exc()
        first_line = redact_text(str(exc).strip().splitlines()[0]) if str(exc).strip() else ""
        print(
            f"error: unexpected {type(exc).__name__}: {first_line} "
            "(set SKEWLESS_DEBUG=1 for the traceback)",
            file=sys.stderr,
            flush=True,
        )
        return 1

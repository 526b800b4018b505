"""``python -m feature_jobs``: the command line the DAGs and people both use.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds the
parser and sets ``handler`` to a function ``(args, settings) -> int``. Errors a user can
cause are :class:`SkewlessError` and print as one line; the exit code is non-zero. A failed
Spark or Delta call prints its root cause in one line too (:mod:`feature_jobs.spark.jvm_errors`);
Spark's own error logs and the tracebacks are shown only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module

from feature_jobs.errors import OfflineStoreError, SkewlessError, first_line
from feature_jobs.redaction import install_log_redaction, redact_text
from feature_jobs.settings import Settings
from feature_jobs.spark import SPARK_LOG_LEVEL_ENV

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
    "redis_cmd",
]
#: Global flags that may come before the command's name.
GLOBAL_FLAGS = ("--verbose",)
VERBOSE_HELP = "also print Spark's own logs and the full traceback of a failure"


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
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES if only is None else [only]:
        import_module(f"feature_jobs.cli.{name}").register(subparsers)
    # Also accepted after the command (where people type it); SUPPRESS keeps a --verbose
    # given before the command when it is not repeated after it.
    for command in subparsers.choices.values():
        command.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )
    return parser


def command_module(argv: Sequence[str]) -> str | None:
    """The module of the subcommand ``argv`` names, or None (top-level help, a typo)."""
    words = [a for a in argv if a not in GLOBAL_FLAGS]
    if not words or words[0].startswith("-"):
        return None
    name = f"{words[0].replace('-', '_')}_cmd"
    return name if name in COMMAND_MODULES else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=command_module(arguments))
    args = parser.parse_args(arguments)
    install_log_redaction()  # credentials come from the environment; never print them
    verbose = bool(args.verbose or os.environ.get("SKEWLESS_DEBUG"))
    with spark_output(verbose):
        return _run(args, verbose)


def _run(args: argparse.Namespace, verbose: bool) -> int:
    try:
        settings = Settings.from_env()
        return int(args.handler(args, settings))
    except SkewlessError as exc:
        _traceback(verbose)
        print(f"error: {redact_text(str(exc))}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; nothing was published by the unfinished step", file=sys.stderr)
        return 130
    except Exception as exc:
        _traceback(verbose)
        from feature_jobs.spark.jvm_errors import diagnose

        found = diagnose(exc)
        if found is not None and found.kind != "other":
            print(f"error: {redact_text(found.line)}", file=sys.stderr, flush=True)
            return OfflineStoreError.exit_code
        line = found.line if found is not None else f"{type(exc).__name__}: {first_line(exc)}"
        print(
            f"error: unexpected {redact_text(line)} (re-run with --verbose for the traceback)",
            file=sys.stderr,
            flush=True,
        )
        return 1


@contextmanager
def spark_output(verbose: bool) -> Iterator[None]:
    """Keep Spark's and py4j's own error logs off the terminal unless ``verbose``.

    One failed write logs a Java stack per failed task (hundreds of lines for a full disk)
    before the CLI prints the cause in one line. Sessions started inside the block read
    the level (:data:`SPARK_LOG_LEVEL_ENV`); both settings are restored after it.
    """
    py4j = logging.getLogger("py4j")
    before = os.environ.get(SPARK_LOG_LEVEL_ENV), py4j.level
    os.environ[SPARK_LOG_LEVEL_ENV] = "ERROR" if verbose else "OFF"
    py4j.setLevel(logging.WARNING if verbose else logging.CRITICAL)
    try:
        yield
    finally:
        if before[0] is None:
            os.environ.pop(SPARK_LOG_LEVEL_ENV, None)
        else:
            os.environ[SPARK_LOG_LEVEL_ENV] = before[0]
        py4j.setLevel(before[1])


def _traceback(verbose: bool) -> None:
    if verbose:
        print(redact_text(traceback.format_exc()), file=sys.stderr, flush=True)

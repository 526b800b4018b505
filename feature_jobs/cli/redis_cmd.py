"""``redis status`` / ``redis stop``: the embedded redis-server that outlives every command.

With ``REDIS_URL`` unset, the first command that needs the online store starts a real
redis-server for the data root and leaves it running: it *is* the online store, and the
next command (or ``serve``) reads what the last ``sync`` published. These two commands
show it and stop it; its data stays on disk (append-only file) for the next start.
"""

from __future__ import annotations

import argparse

from feature_jobs.cli.common import say
from feature_jobs.online.embedded import embedded_status, server_dir, stop_embedded
from feature_jobs.redaction import redact_text
from feature_jobs.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "redis",
        help="see or stop the embedded redis-server (the online store when REDIS_URL is unset)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("status", "stop"), help="status or stop")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.redis_url:
        say(
            f"REDIS_URL is set ({redact_text(settings.redis_url)}): skewless uses that server "
            "and starts no embedded one"
        )
        return 0
    if args.action == "status":
        status = embedded_status(settings)
        if status is None:
            say(
                f"no embedded redis-server is running for {settings.data_root} (the next "
                "command that needs the online store starts one)"
            )
        else:
            say(
                f"embedded redis-server running: pid {status['pid']}, port {status['port']}, "
                f"data in {status['folder']}; stop it with: python -m feature_jobs redis stop"
            )
        return 0
    status = embedded_status(settings)
    if not stop_embedded(settings):
        say(f"no embedded redis-server was running for {settings.data_root}")
        return 0
    pid = status["pid"] if status else "?"
    say(
        f"stopped the embedded redis-server (pid {pid}); its data stays in "
        f"{server_dir(settings)} and the next online command starts it again"
    )
    return 0

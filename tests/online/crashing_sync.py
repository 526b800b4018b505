"""Entry point for the atomicity test: the sync CLI, made to stop dead at a chosen point.

``python -m tests.online.crashing_sync POINT MARKER -- <sync CLI args>`` patches one step
of the driver so that, on reaching POINT, it writes MARKER and sleeps; the test then
SIGKILLs the whole process group (driver, JVM, Python workers) like a crashed machine.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from feature_jobs.cli import main
from feature_jobs.online import publish
from feature_jobs.online import sync as sync_module


def _pause(marker: Path, point: str) -> None:
    marker.write_text(point)
    time.sleep(3600)


def install(point: str, marker: Path) -> None:
    """Make the sync stop at ``point``."""
    write, log = sync_module._write, sync_module._log
    if point == "before_write":  # registered, nothing written
        sync_module._write = lambda *a, **k: _pause(marker, point)  # type: ignore[assignment]
    elif point == "mid_write":  # half of the entities written by the executors

        def half_write(snapshot: Any, *args: Any, **kwargs: Any) -> None:
            half = snapshot.frame.limit(snapshot.frame.count() // 2)
            write(dataclasses.replace(snapshot, frame=half), *args, **kwargs)
            _pause(marker, point)

        sync_module._write = half_write  # type: ignore[assignment]
    elif point == "before_go_live":  # everything written, pointer not moved
        publish.go_live = lambda *a, **k: _pause(marker, point)  # type: ignore[assignment]
    elif point == "after_go_live":  # live, not yet in the sync log, old one not retired

        def stop(*args: Any, **kwargs: Any) -> None:
            _pause(marker, point)

        sync_module._log = stop  # type: ignore[assignment]
        del log
    else:
        raise SystemExit(f"unknown point {point}")


if __name__ == "__main__":
    install(sys.argv[1], Path(sys.argv[2]))
    sys.exit(main(sys.argv[4:]))

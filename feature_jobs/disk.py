"""How much data sits in local files: the measure that picks a job's JVM profile."""

from __future__ import annotations

import os
from pathlib import Path


def size_on_disk(path: Path) -> int:
    """Total bytes of the files at or under ``path`` (0 when nothing is there)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:  # removed while we looked: it does not count
                continue
    return total

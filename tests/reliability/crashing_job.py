"""Entry point of the driver-kill tests: the CLI, made to stop dead at a chosen point.

``python -m tests.reliability.crashing_job POINT MARKER -- <CLI args>`` runs
``python -m feature_jobs <CLI args>`` with the offline write patched so that, at POINT, it
writes MARKER and hangs; the test then SIGKILLs the whole process group (Python driver,
JVM, Python workers) as a lost machine would:

* ``during_write``: inside the Delta write job. The rows reach the writer through a
  ``mapInArrow`` that hangs after handing over rows, so the data file is open on disk
  and the commit can never have happened.
* ``after_commit``: the Delta commit is done, the job has not returned (no sync runs).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

import feature_jobs.materialize as materialize_module
from feature_jobs.cli import main


def _hang(marker: Path, point: str) -> None:
    marker.write_text(point)
    time.sleep(3600)


#: The worker's socket buffer is 64 KiB: enough bytes must flow for the JVM to see rows.
_FLUSH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class HangMidWrite:
    """Feeds the writer rows (on the executor), then hangs before the partition ends.

    The rows are sent repeatedly until the worker's buffer has surely been flushed, so the
    JVM has opened the data file; duplicates are harmless because the job never commits.
    """

    marker: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            sent = 0
            while sent < _FLUSH_BYTES:
                yield batch
                sent += max(batch.nbytes, 1)
            _hang(Path(self.marker), "during_write")


def install(point: str, marker: Path) -> None:
    """Patch the offline write of materialize to stop at ``point``."""
    write = materialize_module.write_snapshots

    def patched(spark: Any, settings: Any, view: Any, snapshot: Any, *args: Any) -> Any:
        if point == "during_write":
            # Write rows as they arrive (no sort by partition first, which would wait for
            # the whole input), so the data file is opened before the hang.
            spark.conf.set("spark.sql.maxConcurrentOutputFileWriters", "4")
            slow = snapshot.mapInArrow(HangMidWrite(str(marker)), snapshot.schema)
            return write(spark, settings, view, slow, *args)
        commit = write(spark, settings, view, snapshot, *args)
        _hang(marker, point)
        return commit

    if point not in ("during_write", "after_commit"):
        raise SystemExit(f"unknown point {point}")
    materialize_module.write_snapshots = patched  # type: ignore[assignment]


if __name__ == "__main__":
    install(sys.argv[1], Path(sys.argv[2]))
    sys.exit(main(sys.argv[4:]))

"""Append to a shared bookkeeping Delta table, retrying the races of concurrent writers.

Blind appends never conflict in Delta, except when two writers create the same table at
once (both try version 0); the loser simply retries on the table the winner created.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from feature_jobs.spark.jvm_errors import delta_errors

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_RETRYABLE = (
    "ConcurrentAppendException",
    "ProtocolChangedException",
    "MetadataChangedException",
    "FileAlreadyExistsException",
    "DELTA_CONCURRENT",
    "DELTA_PROTOCOL_CHANGED",
    "DELTA_METADATA_CHANGED",
)
ATTEMPTS = 4


def append(frame: DataFrame, path: str, partition_by: Sequence[str] = ()) -> None:
    """Append ``frame`` to the Delta table at ``path`` (created on first write).

    Raises:
        OfflineStoreError: the append failed; the line names the cause (full disk,
            corrupt log, permissions...) and nothing was appended.
    """
    with delta_errors(f"appending to {path} failed, nothing was appended", path):
        for attempt in range(ATTEMPTS):
            writer = frame.write.format("delta").mode("append")
            if partition_by:
                writer = writer.partitionBy(*partition_by)
            try:
                writer.save(path)
                return
            except Exception as exc:
                if attempt == ATTEMPTS - 1 or not any(m in str(exc) for m in _RETRYABLE):
                    raise
                time.sleep(0.2 * (attempt + 1))

"""Executor side of a sync: turn Arrow batches of a snapshot into pipelined Redis writes.

:class:`PartitionWriter` is handed to ``DataFrame.mapInArrow``; Spark pickles it to every
executor, where it opens one connection per partition, encodes each Arrow batch (entity
key fields and value arrays) and writes it in one pipeline. It yields one small batch
with the number of rows written, which is all that travels back to the driver.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

from feature_jobs.online.codec import encode_values
from feature_jobs.online.connection import JOB_RETRY, connect, redis_errors
from feature_jobs.online.guards import check_sizes
from feature_jobs.online.keys import encode_part
from feature_jobs.online.publish import write_batch

#: Schema of what each partition reports back.
RESULT_SCHEMA = "rows long"


@dataclass(frozen=True)
class PartitionWriter:
    """Writes the partitions of one snapshot into its bucket keys.

    Attributes:
        url: Redis URL (the executors connect themselves).
        prefix: data key prefix of the snapshot (bucket number appended).
        buckets: number of bucket hashes.
        key_columns: join key columns in declaration order.
        value_columns: feature columns in the snapshot's stored order.
        timestamp_columns: value columns holding timestamps (stored as epoch micros).
        ttl_ms: TTL of every bucket key.
    """

    url: str
    prefix: str
    buckets: int
    key_columns: Sequence[str]
    value_columns: Sequence[str]
    timestamp_columns: frozenset[str]
    ttl_ms: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Write every batch of one partition; yield the row count written."""
        written = 0
        client = None
        with redis_errors(self.url):
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                if client is None:
                    client = connect(self.url, retry=JOB_RETRY)
                fields = self._fields(batch)
                values = encode_values(zip(*self._value_lists(batch), strict=True))
                check_sizes(fields, values, f"sync of {self.prefix.split('}')[0].split(':')[1]}")
                write_batch(client, self.prefix, self.buckets, fields, values, self.ttl_ms)
                written += batch.num_rows
        if client is not None:
            client.close()
        yield pa.RecordBatch.from_pydict({"rows": [written]})

    def _fields(self, batch: pa.RecordBatch) -> list[bytes]:
        parts = [batch.column(name).to_pylist() for name in self.key_columns]
        if len(parts) == 1:
            return [encode_part(value) for value in parts[0]]
        return [b"".join(encode_part(v) for v in row) for row in zip(*parts, strict=True)]

    def _value_lists(self, batch: pa.RecordBatch) -> list[list[object]]:
        lists = []
        for name in self.value_columns:
            column = batch.column(name)
            if name in self.timestamp_columns:
                # Exact integer microseconds; no float or time-zone conversion on the way.
                column = column.cast(pa.int64())
            lists.append(column.to_pylist())
        return lists

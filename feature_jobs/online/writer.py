"""Executor side of a sync: turn Arrow batches of a snapshot into pipelined Redis writes.

:class:`PartitionWriter` is handed to ``DataFrame.mapInArrow``; Spark pickles it to every
executor, where it opens one connection per partition, encodes each Arrow batch (entity
key fields and value arrays) and writes it in one pipeline. Rows computed by another
definition version than the expected one are not written but counted, so the driver can
refuse the snapshot without a separate scan. Each partition yields one small batch (rows
written, foreign rows, one foreign version), which is all that travels back to the driver.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from feature_jobs.online.codec import RowCodec
from feature_jobs.online.connection import JOB_RETRY, connect, redis_errors
from feature_jobs.online.guards import check_sizes
from feature_jobs.online.keys import encode_part
from feature_jobs.online.publish import write_batch

#: Schema of what each partition reports back.
RESULT_SCHEMA = "rows long, foreign long, foreign_version string"


@dataclass(frozen=True)
class PartitionWriter:
    """Writes the partitions of one snapshot into its bucket keys.

    Attributes:
        url: Redis URL (the executors connect themselves).
        prefix: data key prefix of the snapshot (bucket number appended).
        buckets: number of bucket hashes.
        key_columns: join key columns in declaration order.
        value_columns: feature columns in the snapshot's stored order.
        value_types: logical types of the value columns (they choose the row encoding).
        ttl_ms: TTL of every bucket key.
        definition_version: rows of any other ``definition_version`` are not written.
    """

    url: str
    prefix: str
    buckets: int
    key_columns: Sequence[str]
    value_columns: Sequence[str]
    value_types: tuple[str, ...]
    ttl_ms: int
    definition_version: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Write every batch of one partition; yield what was written and what was not."""
        written, foreign, foreign_version = 0, 0, None
        codec = RowCodec.for_types(self.value_types)
        client = None
        with redis_errors(self.url):
            for whole in batches:
                mine = pc.fill_null(
                    pc.equal(whole.column("definition_version"), self.definition_version), False
                )
                batch = whole.filter(mine)
                if batch.num_rows < whole.num_rows:
                    foreign += whole.num_rows - batch.num_rows
                    others = whole.filter(pc.invert(mine)).column("definition_version")
                    foreign_version = foreign_version or str(others[0].as_py())
                if batch.num_rows == 0:
                    continue
                if client is None:
                    client = connect(self.url, retry=JOB_RETRY)
                fields = self._fields(batch)
                values = codec.encode(self._value_columns(batch))
                check_sizes(fields, values, f"sync of {self.prefix.split('}')[0].split(':')[1]}")
                write_batch(client, self.prefix, self.buckets, fields, values, self.ttl_ms)
                written += batch.num_rows
        if client is not None:
            client.close()
        yield pa.RecordBatch.from_pydict(
            {"rows": [written], "foreign": [foreign], "foreign_version": [foreign_version]},
            schema=pa.schema(
                [("rows", pa.int64()), ("foreign", pa.int64()), ("foreign_version", pa.string())]
            ),
        )

    def _fields(self, batch: pa.RecordBatch) -> list[bytes]:
        parts = [batch.column(name).to_pylist() for name in self.key_columns]
        if len(parts) == 1:
            return [encode_part(value) for value in parts[0]]
        return [b"".join(encode_part(v) for v in row) for row in zip(*parts, strict=True)]

    def _value_columns(self, batch: pa.RecordBatch) -> list[pa.Array]:
        columns = []
        for name, kind in zip(self.value_columns, self.value_types, strict=True):
            column = batch.column(name)
            if kind == "timestamp":
                # Exact integer microseconds; no float or time-zone conversion on the way.
                column = column.cast(pa.int64())
            columns.append(column)
        return columns

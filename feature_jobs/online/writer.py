"""Executor side of a sync: turn Arrow batches of a snapshot into pipelined Redis writes.

:class:`PartitionWriter` is handed to ``DataFrame.mapInArrow``; Spark pickles it to every
executor, where it opens one connection per partition, encodes each Arrow batch (entity
key fields and value arrays) and writes it in one pipeline. Rows computed by another
definition version than the expected one are not written but counted, so the driver can
refuse the snapshot without a separate scan. Each partition yields one small batch (rows
written, foreign rows, one foreign version), which is all that travels back to the driver.

The writes are packed in the Redis protocol (RESP) by hand: redis-py's generic command
packing costs several microseconds per argument and a sync sends two arguments per
entity, so :func:`write_batch` builds one buffer of ``HSET key f1 v1 f2 v2 ...`` +
``PEXPIRE key ttl`` per bucket, sends it with one ``sendall``, then reads every reply (an
error reply is raised after the rest are drained, so the connection stays usable).
Connection errors are retried with the client's retry policy; the writes are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from feature_jobs.online.codec import RowCodec
from feature_jobs.online.connection import JOB_RETRY, Client, connect, redis_errors
from feature_jobs.online.keys import check_sizes, encode_part, key_hash

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


def write_batch(
    client: Client,
    prefix: str,
    buckets: int,
    fields: Sequence[bytes],
    values: Sequence[bytes],
    ttl_ms: int,
) -> None:
    """Step 2 (runs on executors): write entity values into their buckets, one pipeline.

    Entities are grouped per bucket so one HSET carries many of them; every HSET is
    followed by the bucket's PEXPIRE in the same buffer, so even a writer killed half-way
    leaves no key without a TTL.
    """
    groups: dict[int, list[bytes]] = {}
    for field, value in zip(fields, values, strict=True):
        bucket = key_hash(field) % buckets
        group = groups.get(bucket)
        if group is None:
            groups[bucket] = group = []
        group.append(field)
        group.append(value)
    ttl = str(ttl_ms).encode()
    chunks: list[bytes] = []
    for bucket, args in groups.items():
        chunks.extend(pack_bucket(f"{prefix}{bucket}".encode(), args, ttl))
    send_pipelined(client, f"{prefix}0", b"".join(chunks), 2 * len(groups))


# -- RESP, packed by hand ------------------------------------------------------------------


def pack_bucket(key: bytes, args: Sequence[bytes], ttl_ms: bytes) -> list[bytes]:
    """``HSET key <args...>`` followed by ``PEXPIRE key ttl_ms``, as RESP chunks."""
    chunks = [b"*%d\r\n$4\r\nHSET\r\n$%d\r\n%b\r\n" % (len(args) + 2, len(key), key)]
    chunks.extend([b"$%d\r\n%b\r\n" % (len(arg), arg) for arg in args])
    chunks.append(
        b"*3\r\n$7\r\nPEXPIRE\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(key), key, len(ttl_ms), ttl_ms)
    )
    return chunks


def send_pipelined(client: Client, slot_key: str, payload: bytes, commands: int) -> None:
    """Send ``commands`` packed commands in one buffer and read all their replies.

    Args:
        client: a Redis or Redis Cluster client.
        slot_key: a key of the batch; on a Cluster it selects the node (all keys of a
            batch share one hash tag, hence one slot).
        payload: the packed commands.
        commands: how many commands ``payload`` holds.
    """
    target: redis.Redis
    if isinstance(client, RedisCluster):
        target = client.get_redis_connection(client.get_node_from_key(slot_key))
    else:
        target = client
    retry = target.get_retry() or Retry(NoBackoff(), 0)
    pool = target.connection_pool
    connection = pool.get_connection()
    try:
        retry.call_with_retry(
            lambda: _round_trip(connection, payload, commands),
            lambda _error: connection.disconnect(),
        )
    finally:
        pool.release(connection)


def _round_trip(connection: Any, payload: bytes, commands: int) -> None:
    connection.send_packed_command([payload])
    first_error: redis.ResponseError | None = None
    for _ in range(commands):
        try:
            connection.read_response()
        except redis.ResponseError as error:
            first_error = first_error or error
    if first_error is not None:
        raise first_error

"""Pipelined bulk writes in the Redis protocol (RESP), packed by hand.

redis-py's generic command packing costs several microseconds per argument; a sync sends
two arguments per entity, so the executors pack the bucket writes themselves: one buffer
of ``HSET key f1 v1 f2 v2 ...`` + ``PEXPIRE key ttl`` per bucket, one ``sendall``, then
every reply is read (an error reply is raised after the rest are drained, so the
connection stays usable). Connection errors are retried with the client's retry policy;
the writes are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from feature_jobs.online.connection import Client


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

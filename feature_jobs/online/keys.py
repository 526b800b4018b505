"""Redis key layout of the online store, and the collision-free encoding of entity keys.

Every key of one feature view shares the hash tag ``{<project>:<view>}``, so on a Redis
Cluster the pointer and the data of a view live in one slot and a single Lua script can
read them together (the price: one view is not spread over several shards). Project and
view names cannot contain ``:`` or braces (both are validated identifiers), so two
projects or two views never share a prefix.

Layout for project ``p`` and view ``v``::

    {p:v}:live             hash  the live pointer: token, ts, buckets, cols, types, prefix...
    {p:v}:snaps            zset  snapshots that exist (member token, score registration time)
    {p:v}:m:<token>        hash  metadata of one snapshot (copied into ``live`` at go-live)
    {p:v}:d:<token>:<b>    hash  bucket b of one snapshot: field = entity key, value = values

An entity key is encoded as the concatenation of ``<byte length>:<utf-8 bytes>`` for each
join key in declaration order (a netstring without the trailing comma). The encoding is
prefix-free, so ``("a:b", "c")`` and ``("a", "b:c")`` give ``3:a:b1:c`` and
``1:a3:b:c``; any byte (``:``, ``*``, newline, unicode) is carried as data. Long keys use
their decimal text. Entities are spread over buckets by ``crc32(field) % buckets``.

Limits: an entity key over :data:`MAX_KEY_BYTES` or an encoded value row over
:data:`MAX_VALUE_BYTES` is refused on the executor before the row is sent to Redis (a
10 MB string would block the server while it copies it and blow the memory budget).
Online reads refuse such keys before the round trip too.
"""

from __future__ import annotations

import math
import secrets
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from feature_jobs.errors import OnlineRequestError, PublishRefused

#: Target mean number of entities per bucket hash. Below Redis' default
#: hash-max-listpack-entries (128), so buckets of short values stay in the compact encoding.
ENTITIES_PER_BUCKET = 64
#: Largest encoded entity key (all join keys of one entity) accepted online.
MAX_KEY_BYTES = 4 * 1024
#: Largest encoded row of feature values of one entity accepted online.
MAX_VALUE_BYTES = 1024 * 1024


def view_tag(project: str, view: str) -> str:
    """The hash tag shared by every key of one view of one project."""
    return "{" + project + ":" + view + "}"


def live_key(project: str, view: str) -> str:
    """The pointer naming the snapshot a view serves."""
    return f"{view_tag(project, view)}:live"


def snaps_key(project: str, view: str) -> str:
    """The registry of snapshots that exist for a view (live, being written, superseded)."""
    return f"{view_tag(project, view)}:snaps"


def meta_key(project: str, view: str, token: str) -> str:
    """Metadata of one snapshot."""
    return f"{view_tag(project, view)}:m:{token}"


def data_prefix(project: str, view: str, token: str) -> str:
    """Prefix of the bucket keys of one snapshot; the bucket number follows."""
    return f"{view_tag(project, view)}:d:{token}:"


def new_token(feature_ts: datetime) -> str:
    """A fresh snapshot token: readable snapshot time plus randomness (re-runs never clash)."""
    return f"{feature_ts:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def bucket_count(rows: int) -> int:
    """How many bucket hashes a snapshot of ``rows`` entities is spread over."""
    return max(1, math.ceil(rows / ENTITIES_PER_BUCKET))


def key_hash(field: bytes) -> int:
    """The hash choosing an entity's bucket; readers send it, Lua takes it modulo buckets."""
    return zlib.crc32(field)


def read_argument(fields: Sequence[bytes]) -> bytes:
    """The READ script's argument for one view: ``<crc32>:<length>:<key>`` per entity."""
    return b"".join([b"%d:%d:%b" % (zlib.crc32(f), len(f), f) for f in fields])


def encode_part(value: Any) -> bytes:
    """One join-key value as ``<length>:<bytes>``."""
    raw = str(value).encode("utf-8") if isinstance(value, int) else value.encode("utf-8")
    return b"%d:%s" % (len(raw), raw)


def encode_entity(values: Sequence[Any]) -> bytes:
    """The hash field of an entity: its join-key values in declaration order, encoded."""
    return b"".join(encode_part(value) for value in values)


def entity_fields(rows: Sequence[Any], join_keys: Mapping[str, str]) -> list[bytes]:
    """Encoded keys of request rows, checked (see :func:`check_entity` for the errors)."""
    if len(join_keys) == 1:
        # The common case, without a per-row loop over the keys; any doubt falls through
        # to the full check below, which names the faulty row.
        ((column, dtype),) = join_keys.items()
        try:
            values = [row[column] for row in rows]
        except (KeyError, TypeError):
            values = []
        if len(values) == len(rows) and _all_of_type(values, dtype):
            return [encode_part(v) for v in values]
    return [
        encode_entity(check_entity(row, join_keys, f"entity row {i}")) for i, row in enumerate(rows)
    ]


def _all_of_type(values: list[Any], dtype: str) -> bool:
    if dtype == "string":
        return all(type(v) is str for v in values)
    return all(type(v) is int and -(2**63) <= v < 2**63 for v in values)


def check_entity(row: Mapping[str, Any], join_keys: Mapping[str, str], where: str) -> list[Any]:
    """Pick and type-check the join-key values of one request row.

    Args:
        row: the entity row as given by the caller (extra columns are ignored).
        join_keys: the view entity's ordered key columns and their logical types.
        where: names the row in error messages (e.g. "entity row 3").

    Returns:
        The key values in declaration order.

    Raises:
        OnlineRequestError: when a key is absent, null, or of the wrong type.
    """
    if not isinstance(row, Mapping):
        raise OnlineRequestError(f"{where} is a {type(row).__name__}; give a mapping of join keys")
    values = []
    for column, dtype in join_keys.items():
        if column not in row:
            raise OnlineRequestError(
                f"{where} has no {column!r}; give every join key ({', '.join(join_keys)})"
            )
        value = row[column]
        if dtype == "long":
            if isinstance(value, bool) or not isinstance(value, int):
                raise OnlineRequestError(
                    f"{where}: {column} must be an integer (long), got {type(value).__name__} "
                    f"{_preview(value)}"
                )
            if not -(2**63) <= value < 2**63:
                raise OnlineRequestError(f"{where}: {column}={_preview(value)} does not fit a long")
        elif not isinstance(value, str):
            raise OnlineRequestError(
                f"{where}: {column} must be a string, got {type(value).__name__} {_preview(value)}"
            )
        values.append(value)
    return values


def _preview(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to its first characters: an error never echoes a huge input."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"<an integer of {value.bit_length()} bits>"  # its repr may be refused
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def check_sizes(fields: Sequence[bytes], values: Sequence[bytes], where: str) -> None:
    """Refuse an oversized entity key or value row (runs on the executors, per batch).

    Raises:
        PublishRefused: naming the entity (first bytes), its size and the limit.
    """
    for field, value in zip(fields, values, strict=True):
        if len(field) > MAX_KEY_BYTES:
            raise PublishRefused(
                f"{where}: an entity key is {_size(len(field))} (starts {field[:40]!r}), over "
                f"the {_size(MAX_KEY_BYTES)} limit of online keys; nothing was published - "
                "use shorter join keys (an id, or a hash of the long value)"
            )
        if len(value) > MAX_VALUE_BYTES:
            raise PublishRefused(
                f"{where}: the values of entity {field[:40]!r} are {_size(len(value))}, over "
                f"the {_size(MAX_VALUE_BYTES)} limit of one online row; nothing was "
                "published - shorten or drop the oversized feature in the definition"
            )


def check_read_key(field: bytes, where: str) -> None:
    """Refuse an oversized key in an online read before it is sent to Redis."""
    if len(field) > MAX_KEY_BYTES:
        raise OnlineRequestError(
            f"{where}: the entity key is {_size(len(field))}, over the {_size(MAX_KEY_BYTES)} "
            "limit of online keys; send the entity's id"
        )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"

"""Writing the training set in the spine's row order without a global sort.

Each spine row carries ``monotonically_increasing_id()``: the spine partition ``p`` it was
read in (the id's upper bits, ``id >> 33``) and its position in it. A global ``orderBy``
would sample the whole joined result first (running the join a second time) to find
range boundaries - but the boundaries are already known: they are the spine partitions.

So the joined rows are hash-partitioned on a value chosen per spine partition such that
Spark's partitioning function, ``pmod(murmur3(value, seed 42), n)`` (the one ``hash()``
and bucketing use), sends spine partition ``p`` to output partition ``p``; then each
partition is sorted by row id. Output file ``part-0000p`` holds spine partition ``p``, in
order. A test checks :func:`murmur3_int` against Spark's own ``hash()``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_MASK = 0xFFFFFFFF
_SEED = 42  # Spark's HashPartitioning seed


def in_spine_order(df: DataFrame, row_id: str, partitions: int) -> DataFrame:
    """``df`` repartitioned so output partition ``p`` holds spine partition ``p``, sorted.

    Args:
        df: the joined rows, each with ``row_id`` from ``monotonically_increasing_id()``
            evaluated on the spine's scan.
        row_id: the row id column.
        partitions: how many partitions the spine's scan had.
    """
    from pyspark.sql import functions as F

    n = max(1, partitions)
    keys = F.array(*[F.lit(key).cast("int") for key in partition_keys(n)])
    target = F.element_at(keys, (F.shiftright(F.col(row_id), 33) + 1).cast("int"))
    return df.repartition(n, target).sortWithinPartitions(row_id)


@lru_cache(maxsize=64)
def partition_keys(n: int) -> tuple[int, ...]:
    """For each partition ``p`` in ``[0, n)``, an int that Spark hash-partitions into ``p``."""
    found: dict[int, int] = {}
    candidate = 0
    while len(found) < n:
        found.setdefault(murmur3_int(candidate) % n, candidate)
        candidate += 1
    return tuple(found[p] for p in range(n))


def murmur3_int(value: int, seed: int = _SEED) -> int:
    """Spark's ``Murmur3_x86_32.hashInt`` of a 32-bit int, as a signed 32-bit int."""
    k1 = _mix_k1(value & _MASK)
    h1 = _mix_h1(seed & _MASK, k1)
    h1 = _fmix(h1, 4)
    return h1 - (1 << 32) if h1 & 0x80000000 else h1


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def _mix_k1(k1: int) -> int:
    k1 = (k1 * 0xCC9E2D51) & _MASK
    k1 = _rotl(k1, 15)
    return (k1 * 0x1B873593) & _MASK


def _mix_h1(h1: int, k1: int) -> int:
    h1 ^= k1
    h1 = _rotl(h1, 13)
    return (h1 * 5 + 0xE6546B64) & _MASK


def _fmix(h1: int, length: int) -> int:
    h1 ^= length
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & _MASK
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & _MASK
    return h1 ^ (h1 >> 16)

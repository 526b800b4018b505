"""Spark's row checksum, recomputed bit for bit on Arrow data with numpy.

A training-set manifest records a fingerprint of the rows it describes: the sum of
``xxhash64(c1, ..., cn, mask)`` over every row (:mod:`feature_jobs.training.hashing`). That
checksum is defined by what Spark computes, because the Spark engine wrote the first
manifests and a rebuild is checked against them. The local (DuckDB/Arrow) engine has no
Spark, so it must reproduce Spark's hash exactly, including Spark's quirks: the per-type
encoding of each value (``HashExpression``), its treatment of -0.0 and NaN, and its XXH64
(``org.apache.spark.sql.catalyst.expressions.XXH64``, the standard algorithm, little-endian).

Everything is vectorised over rows: numpy ``uint64`` arithmetic wraps modulo 2^64 like
Java's ``long``, so each step of XXH64 is a handful of whole-array operations. Every row
chains its own seed (the hash so far), so strings are hashed all rows at once in masked
passes (one per 32-byte stripe, then per trailing 8-byte word, 4-byte word and byte).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from feature_jobs.errors import TrainingSetError

#: Spark's seed for ``xxhash64`` (``XxHash64(children, 42L)``).
SPARK_SEED = 42

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_P5 = np.uint64(0x27D4EB2F165667C5)

# Java's canonical NaN bit patterns: Double.doubleToLongBits and Float.floatToIntBits map
# every NaN to these, so a NaN hashes alike whatever its payload.
_DOUBLE_NAN = np.uint64(0x7FF8000000000000)
_FLOAT_NAN = np.uint64(0x7FC00000)

# Spark hashes a decimal by its unscaled long up to this precision (Decimal.MAX_LONG_DIGITS);
# beyond it, by the bytes of a BigInteger, which this module does not reproduce.
_MAX_LONG_DIGITS = 18

_MICROS_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}

_Ints = np.ndarray  # numpy arrays of any dtype; numpy's generic typing adds nothing here


def row_hashes(data: pa.Table | pa.RecordBatch, columns: Sequence[str]) -> np.ndarray:
    """Spark's ``xxhash64(c1, ..., cn, mask)`` of every row, as ``int64`` (one per row).

    The mask is the string of '1' (null) or '0' (not null) per column, as in
    :func:`feature_jobs.training.hashing.row_hash`. A null value leaves the hash unchanged,
    as in Spark.

    Raises:
        TrainingSetError: a column is missing, or of a type whose Spark hash is not
            reproduced here (nested, unsigned, decimals above 18 digits, nanoseconds that
            are not whole microseconds, ...).
    """
    rows = data.num_rows
    h = np.full(rows, SPARK_SEED, dtype=np.uint64)
    mask = np.empty((rows, len(columns)), dtype=np.uint8)
    with np.errstate(over="ignore"):
        for i, name in enumerate(columns):
            column = _column(data, name)
            start = 0
            for chunk in column.chunks:
                stop = start + len(chunk)
                valid = chunk.is_valid().to_numpy(zero_copy_only=False)
                mask[start:stop, i] = np.where(valid, ord("0"), ord("1"))
                _hash_chunk(name, chunk, valid, h[start:stop])
                start = stop
        # The mask is a string of one byte per column, the same length on every row.
        width = len(columns)
        starts = np.arange(rows, dtype=np.int64) * width
        lengths = np.full(rows, width, dtype=np.int64)
        h = _hash_bytes(mask.reshape(-1), starts, lengths, h)
    return h.view(np.int64)


def hash_total(hashes: np.ndarray) -> int:
    """The exact sum of 64-bit row hashes, as ``sum_of_hashes`` computes it in Spark.

    The high (arithmetic shift) and low 32-bit halves are summed separately in ``int64``,
    which cannot overflow below 2^31 rows per block, and recombined as Python ints.
    """
    values = np.asarray(hashes, dtype=np.int64)
    total = 0
    block = 1 << 30
    for start in range(0, len(values), block):
        part = values[start : start + block]
        high = int(np.sum(part >> 32, dtype=np.int64))
        low = int(np.sum(part & 0xFFFFFFFF, dtype=np.int64))
        total += (high << 32) + low
    return total


def spark_type_name(arrow_type: pa.DataType) -> str:
    """The ``simpleString()`` of the type Spark gives a Parquet column of ``arrow_type``.

    Timestamps without a time zone are ``timestamp_ntz``: Parquet marks them
    ``isAdjustedToUTC=false`` and Spark (``spark.sql.parquet.inferTimestampNTZ.enabled``,
    on by default and in every skewless session) reads them as such.

    Raises:
        TrainingSetError: a type :func:`row_hashes` does not hash.
    """
    t = arrow_type
    if pa.types.is_dictionary(t):
        return spark_type_name(t.value_type)
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz is not None else "timestamp_ntz"
    if pa.types.is_decimal128(t) and t.precision <= _MAX_LONG_DIGITS:
        return f"decimal({t.precision},{t.scale})"
    for check, name in _SIMPLE_NAMES:
        if check(t):
            return name
    raise TrainingSetError(f"no Spark checksum for Arrow type {t}")


_SIMPLE_NAMES = (
    (pa.types.is_int8, "tinyint"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_int32, "int"),
    (pa.types.is_int64, "bigint"),
    (pa.types.is_float32, "float"),
    (pa.types.is_float64, "double"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_string, "string"),
    (pa.types.is_large_string, "string"),
    (pa.types.is_string_view, "string"),
    (pa.types.is_binary, "binary"),
    (pa.types.is_large_binary, "binary"),
    (pa.types.is_binary_view, "binary"),
    (pa.types.is_date32, "date"),
)


def _column(data: pa.Table | pa.RecordBatch, name: str) -> pa.ChunkedArray:
    index = data.schema.get_field_index(name)
    if index < 0:
        raise TrainingSetError(f"column {name!r} is missing (or not unique) in the data to hash")
    column = data.column(index)
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column], type=column.type)
    t = column.type
    try:
        spark_type_name(t)
    except TrainingSetError:
        raise TrainingSetError(f"column {name!r}: no Spark checksum for Arrow type {t}") from None
    # Dictionaries hash as their values (Parquet stores, and Spark reads, the values).
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
    return column


def _hash_chunk(name: str, chunk: pa.Array, valid: _Ints, h: _Ints) -> None:
    """Fold one column chunk into ``h`` (a view of the running hashes) where valid."""
    t = chunk.type
    if chunk.null_count == len(chunk):
        return
    if pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        chunk = chunk.cast(pa.large_binary())
        t = chunk.type
    if pa.types.is_string(t) or pa.types.is_binary(t):
        new = _hash_binary_chunk(chunk, np.int32, valid, h)
    elif pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        new = _hash_binary_chunk(chunk, np.int64, valid, h)
    elif pa.types.is_boolean(t):
        values = chunk.fill_null(False).to_numpy(zero_copy_only=False)
        new = _hash_int(values.astype(np.uint64), h)
    elif pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_int32(t):
        new = _hash_int(_u32(_fixed(chunk, t.to_pandas_dtype())), h)
    elif pa.types.is_date32(t):
        new = _hash_int(_u32(_fixed(chunk, np.int32)), h)
    elif pa.types.is_int64(t):
        new = _hash_long(_fixed(chunk, np.int64).view(np.uint64), h)
    elif pa.types.is_timestamp(t):
        new = _hash_long(_micros(name, chunk).view(np.uint64), h)
    elif pa.types.is_float64(t):
        values = _fixed(chunk, np.float64)
        bits = values.view(np.uint64).copy()
        bits[values == 0.0] = 0  # Spark: `d == -0.0d` hashes as 0L (both zeros)
        bits[np.isnan(values)] = _DOUBLE_NAN
        new = _hash_long(bits, h)
    elif pa.types.is_float32(t):
        values = _fixed(chunk, np.float32)
        bits = values.view(np.uint32).astype(np.uint64)
        bits[values == 0.0] = 0
        bits[np.isnan(values)] = _FLOAT_NAN
        new = _hash_int(bits, h)
    elif pa.types.is_decimal128(t):
        # Little-endian 128-bit two's complement: below 10^18 the low word is the
        # unscaled value itself (as a signed long).
        words = _buffer(chunk, 1, np.int64, 2 * (chunk.offset + len(chunk)))
        new = _hash_long(words[2 * chunk.offset :: 2].view(np.uint64), h)
    else:  # pragma: no cover - _column refused every other type already
        raise TrainingSetError(f"column {name!r}: no Spark checksum for Arrow type {t}")
    if chunk.null_count:
        np.copyto(h, new, where=valid)
    else:
        h[:] = new


def _buffer(chunk: pa.Array, index: int, dtype: type, count: int) -> _Ints:
    buffer = chunk.buffers()[index]
    if buffer is None or count == 0:
        return np.zeros(count, dtype=dtype)
    return np.frombuffer(buffer, dtype=dtype, count=count)


def _fixed(chunk: pa.Array, dtype: type) -> _Ints:
    """The values of a fixed-width chunk (null slots hold whatever the buffer holds)."""
    return _buffer(chunk, 1, dtype, chunk.offset + len(chunk))[chunk.offset :]


def _u32(values: _Ints) -> _Ints:
    """Spark's ``input & 0xFFFFFFFFL`` of an int: sign-extend to 32 bits, then unsigned."""
    return values.astype(np.int32).view(np.uint32).astype(np.uint64)


def _micros(name: str, chunk: pa.Array) -> _Ints:
    """Epoch microseconds, Spark's timestamp representation (refusing lossy conversions)."""
    unit = chunk.type.unit
    if unit != "us":
        try:
            # A safe cast: overflow, or nanoseconds that are not whole microseconds, raise.
            chunk = chunk.cast(pa.timestamp("us", chunk.type.tz), safe=True)
        except pa.ArrowInvalid as error:
            raise TrainingSetError(
                f"column {name!r}: {chunk.type} values have no exact Spark timestamp "
                f"(microseconds): {error}"
            ) from None
    return _fixed(chunk.view(pa.int64()), np.int64)


def _rotl(x: _Ints, r: int) -> _Ints:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _fmix(h: _Ints) -> _Ints:
    h ^= h >> np.uint64(33)
    h *= _P2
    h ^= h >> np.uint64(29)
    h *= _P3
    h ^= h >> np.uint64(32)
    return h


def _round(acc: _Ints, word: _Ints) -> _Ints:
    """XXH64's round: ``rotl(acc + word * P2, 31) * P1``."""
    return _rotl(acc + word * _P2, 31) * _P1


def _hash_int(values: _Ints, seeds: _Ints) -> _Ints:
    """``XXH64.hashInt`` of unsigned 32-bit ``values`` (as uint64), each with its seed."""
    h = seeds + (_P5 + np.uint64(4))
    h ^= values * _P1
    h = _rotl(h, 23) * _P2 + _P3
    return _fmix(h)


def _hash_long(values: _Ints, seeds: _Ints) -> _Ints:
    """``XXH64.hashLong`` of 64-bit ``values`` (as uint64), each with its seed."""
    h = seeds + (_P5 + np.uint64(8))
    h ^= _rotl(values * _P2, 31) * _P1
    h = _rotl(h, 27) * _P1 + _P4
    return _fmix(h)


def _hash_binary_chunk(chunk: pa.Array, offset_type: type, valid: _Ints, h: _Ints) -> _Ints:
    """``XXH64.hashUnsafeBytes`` of each value of a string/binary chunk, seeded by ``h``."""
    n = len(chunk)
    offsets = _buffer(chunk, 1, offset_type, chunk.offset + n + 1)[chunk.offset :]
    offsets = offsets.astype(np.int64)
    data = chunk.buffers()[2]
    buf = np.zeros(0, np.uint8) if data is None else np.frombuffer(data, dtype=np.uint8)
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    if chunk.null_count:
        # Null slots may still span bytes; hash only the values (nulls keep their seed).
        rows = np.flatnonzero(valid)
        new = h.copy()
        new[rows] = _hash_bytes(buf, starts[rows], lengths[rows], h[rows])
        return new
    return _hash_bytes(buf, starts, lengths, h)


def _windows(buf: _Ints, width: int) -> _Ints:
    """Every ``width``-byte window of ``buf``, as rows: unaligned little-endian reads."""
    count = max(len(buf) - width + 1, 0)
    return np.lib.stride_tricks.as_strided(
        buf, shape=(count, width), strides=(buf.strides[0], buf.strides[0]), writeable=False
    )


def _take(windows: _Ints, positions: _Ints, dtype: str) -> _Ints:
    """The words at byte ``positions`` (a gather of windows, viewed as one word each)."""
    return windows[positions].view(dtype)[:, 0].astype(np.uint64)


def _select(rows: _Ints, total: int) -> slice | _Ints:
    """Index for ``rows``: a plain slice when it is every row (no gather, no scatter)."""
    return slice(None) if len(rows) == total else rows


def _hash_bytes(buf: _Ints, starts: _Ints, lengths: _Ints, seeds: _Ints) -> _Ints:
    """XXH64 of the byte strings ``buf[start:start+length]``, each with its own seed.

    The algorithm is Spark's ``XXH64.hashUnsafeBytes`` (standard XXH64); rows take part in
    a pass only if their string is long enough for it, so all rows advance together.
    """
    n = len(seeds)
    words = _windows(buf, 8)
    ints = _windows(buf, 4)
    h = seeds + _P5  # the hash of strings shorter than a 32-byte stripe starts here
    stripes = lengths // 32
    long_rows = np.flatnonzero(stripes)
    if len(long_rows):
        # Longest first, so the rows still striping at pass j are a prefix (a slice).
        long_rows = long_rows[np.argsort(-stripes[long_rows], kind="stable")]
        counts = stripes[long_rows]
        pos = starts[long_rows].copy()
        s = seeds[long_rows]
        v1, v2, v3, v4 = s + _P1 + _P2, s + _P2, s.copy(), s - _P1
        active = len(long_rows)
        for j in range(int(counts[0])):
            while counts[active - 1] <= j:
                active -= 1
            p = pos[:active]
            v1[:active] = _round(v1[:active], _take(words, p, "<u8"))
            v2[:active] = _round(v2[:active], _take(words, p + 8, "<u8"))
            v3[:active] = _round(v3[:active], _take(words, p + 16, "<u8"))
            v4[:active] = _round(v4[:active], _take(words, p + 24, "<u8"))
            pos[:active] += 32
        acc = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        for v in (v1, v2, v3, v4):
            acc ^= _round(np.zeros_like(v), v)
            acc = acc * _P1 + _P4
        h[long_rows] = acc
    h += lengths.astype(np.uint64)

    pos = starts + stripes * 32
    tail = lengths % 32
    for k in range(3):  # up to three 8-byte words after the stripes
        rows = np.flatnonzero(tail >= 8 * (k + 1))
        if len(rows):
            at = _select(rows, n)
            x = h[at] ^ _round(np.zeros(len(rows), np.uint64), _take(words, pos[at] + 8 * k, "<u8"))
            h[at] = _rotl(x, 27) * _P1 + _P4
    pos += (tail // 8) * 8

    rows = np.flatnonzero(lengths % 8 >= 4)  # one 4-byte word
    if len(rows):
        at = _select(rows, n)
        x = h[at] ^ (_take(ints, pos[at], "<u4") * _P1)
        h[at] = _rotl(x, 23) * _P2 + _P3
        pos[at] += 4

    rest = lengths % 4
    for k in range(3):  # then up to three single bytes
        rows = np.flatnonzero(rest > k)
        if len(rows):
            at = _select(rows, n)
            x = h[at] ^ (buf[pos[at] + k].astype(np.uint64) * _P5)
            h[at] = _rotl(x, 11) * _P1
    return _fmix(h)

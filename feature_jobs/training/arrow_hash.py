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

from collections.abc import Callable, Sequence

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

#: Rows hashed at a time: numpy's temporaries of a block (512 KiB each) stay in cache.
_BLOCK = 1 << 16

# Zero bytes after a copy of a chunk's strings: a word read at any row's next position,
# even past the end of its string (by up to 3 words), stays inside the copy.
_PAD = 32

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
    prepared = [_column(data, name) for name in columns]  # refuse before any work
    rows = data.num_rows
    h = np.full(rows, SPARK_SEED, dtype=np.uint64)
    # The mask, one byte per column, padded with zeros to whole 8-byte words so that it
    # can be read as words without a gather (only its first len(columns) bytes count).
    # It holds 1 for null, 0 for not null here; the ASCII '0' is added when it is hashed.
    width = len(columns)
    nulls = np.zeros((rows, max(-(-width // 8) * 8, 8)), dtype=np.uint8)
    ascii_zero = np.zeros(nulls.shape[1], dtype=np.uint8)
    ascii_zero[:width] = ord("0")
    with np.errstate(over="ignore"):
        for i, (name, column) in enumerate(zip(columns, prepared, strict=True)):
            start = 0
            for chunk in column.chunks:
                # Blocks of rows keep numpy's temporaries in the CPU cache.
                for offset in range(0, len(chunk), _BLOCK):
                    piece = chunk.slice(offset, _BLOCK)
                    stop = start + len(piece)
                    valid = None
                    if piece.null_count:
                        null = piece.is_null().to_numpy(zero_copy_only=False)
                        nulls[start:stop, i] = null
                        valid = ~null
                    _hash_chunk(name, piece, valid, h[start:stop])
                    start = stop
        for offset in range(0, rows, _BLOCK):
            block = slice(offset, offset + _BLOCK)
            h[block] = _hash_equal_lengths(nulls[block] + ascii_zero, width, h[block])
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


def _hash_chunk(name: str, chunk: pa.Array, valid: _Ints | None, h: _Ints) -> None:
    """Fold one column chunk into ``h`` (a view of the running hashes) where valid.

    ``valid`` is None when the chunk has no nulls.
    """
    t = chunk.type
    if chunk.null_count == len(chunk):
        return
    if pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        chunk = chunk.cast(pa.large_binary())
        t = chunk.type
    if pa.types.is_string(t) or pa.types.is_binary(t):
        new = _hash_binary_chunk(chunk, np.int32, h)
    elif pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        new = _hash_binary_chunk(chunk, np.int64, h)
    elif pa.types.is_boolean(t):
        # From the bit buffer (null slots are ignored below); not fill_null(False), whose
        # pa.scalar imports pandas.
        packed = np.frombuffer(chunk.buffers()[1], dtype=np.uint8)
        flags = np.unpackbits(packed, bitorder="little")[chunk.offset : chunk.offset + len(chunk)]
        new = _hash_int(flags.astype(np.uint64), h)
    elif pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_int32(t):
        # Not t.to_pandas_dtype(): that imports pandas (0.3 s) for a numpy type.
        small = {8: np.int8, 16: np.int16, 32: np.int32}[t.bit_width]
        new = _hash_int(_u32(_fixed(chunk, small)), h)
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
    if valid is None:
        h[:] = new
    else:
        np.copyto(h, new, where=valid)


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
    if chunk.type.unit != "us":
        try:
            # A safe cast: overflow, or nanoseconds that are not whole microseconds, raise.
            chunk = chunk.cast(pa.timestamp("us", chunk.type.tz), safe=True)
        except pa.ArrowInvalid as error:
            raise TrainingSetError(
                f"column {name!r}: {chunk.type} values have no exact Spark timestamp "
                f"(microseconds): {error}"
            ) from None
    return _fixed(chunk.view(pa.int64()), np.int64)


# XXH64's steps on whole arrays. Each updates its first argument in place (a fresh array
# of the caller's) and returns it; shifts by numpy uint64 counts keep every operand uint64.


def _rotl(x: _Ints, r: int) -> _Ints:
    high = x << np.uint64(r)
    x >>= np.uint64(64 - r)
    x |= high
    return x


def _fmix(h: _Ints) -> _Ints:
    h ^= h >> np.uint64(33)
    h *= _P2
    h ^= h >> np.uint64(29)
    h *= _P3
    h ^= h >> np.uint64(32)
    return h


def _round(acc: _Ints, word: _Ints) -> _Ints:
    """XXH64's round: ``rotl(acc + word * P2, 31) * P1``."""
    acc += word * _P2
    _rotl(acc, 31)
    acc *= _P1
    return acc


def _mix_word(h: _Ints, word: _Ints) -> _Ints:
    """Fold one 8-byte word: ``h ^= round(0, word); h = rotl(h, 27) * P1 + P4``."""
    mixed = word * _P2  # round(0, word), on a fresh array
    _rotl(mixed, 31)
    mixed *= _P1
    h ^= mixed
    _rotl(h, 27)
    h *= _P1
    h += _P4
    return h


def _mix_int(h: _Ints, word: _Ints) -> _Ints:
    """Fold one unsigned 4-byte word: ``h ^= word * P1; h = rotl(h, 23) * P2 + P3``."""
    h ^= word * _P1
    _rotl(h, 23)
    h *= _P2
    h += _P3
    return h


def _mix_byte(h: _Ints, byte: _Ints) -> _Ints:
    """Fold one byte: ``h ^= byte * P5; h = rotl(h, 11) * P1``."""
    h ^= byte.astype(np.uint64, copy=False) * _P5
    _rotl(h, 11)
    h *= _P1
    return h


def _hash_int(values: _Ints, seeds: _Ints) -> _Ints:
    """``XXH64.hashInt`` of unsigned 32-bit ``values`` (as uint64), each with its seed."""
    return _fmix(_mix_int(seeds + (_P5 + np.uint64(4)), values))


def _hash_long(values: _Ints, seeds: _Ints) -> _Ints:
    """``XXH64.hashLong`` of 64-bit ``values`` (as uint64), each with its seed."""
    return _fmix(_mix_word(seeds + (_P5 + np.uint64(8)), values))


def _start(seeds: _Ints) -> tuple[_Ints, _Ints, _Ints, _Ints]:
    """The four accumulators of XXH64's 32-byte stripes."""
    return seeds + _P1 + _P2, seeds + _P2, seeds.copy(), seeds - _P1


def _merge(v1: _Ints, v2: _Ints, v3: _Ints, v4: _Ints) -> _Ints:
    """The hash of the stripes: the four accumulators rotated, summed and mixed in."""
    acc = _rotl(v1.copy(), 1) + _rotl(v2.copy(), 7) + _rotl(v3.copy(), 12)
    acc += _rotl(v4.copy(), 18)
    for v in (v1, v2, v3, v4):
        acc ^= _round(np.zeros_like(v), v)
        acc *= _P1
        acc += _P4
    return acc


def _hash_binary_chunk(chunk: pa.Array, offset_type: type, h: _Ints) -> _Ints:
    """``XXH64.hashUnsafeBytes`` of each value of a string/binary chunk, seeded by ``h``.

    Null slots are hashed too (whatever bytes they span) and discarded by the caller.
    """
    n = len(chunk)
    offsets = _buffer(chunk, 1, offset_type, chunk.offset + n + 1)[chunk.offset :]
    offsets = offsets.astype(np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    # The chunk's bytes, copied with zeros after them: every pass can then read a whole
    # word at every row's position, even past the end of a string too short for it.
    buf = np.zeros(last - first + _PAD, np.uint8)
    data = chunk.buffers()[2]
    if last > first and data is not None:
        buf[: last - first] = np.frombuffer(data, dtype=np.uint8, count=last)[first:]
    return _hash_bytes(buf, offsets[:-1] - first, np.diff(offsets), h)


def _words(buf: _Ints, dtype: str) -> _Ints:
    """The word of ``dtype`` at every byte offset of ``buf``: unaligned little-endian reads.

    A view with a stride of one byte, so a gather at string offsets reads whole words.
    """
    width = np.dtype(dtype).itemsize
    count = max(len(buf) - width + 1, 0)
    if count == 0:
        return np.zeros(0, dtype)
    return np.ndarray(shape=(count,), dtype=dtype, buffer=buf, strides=(1,))


def _hash_bytes(buf: _Ints, starts: _Ints, lengths: _Ints, seeds: _Ints) -> _Ints:
    """XXH64 of the byte strings ``buf[start:start+length]``, each with its own seed.

    The algorithm is Spark's ``XXH64.hashUnsafeBytes`` (standard XXH64). ``buf`` has
    :data:`_PAD` bytes after the last string. The 32-byte stripes are hashed for the rows
    long enough only; each later step (at most 3 words, a 4-byte word, 3 bytes) is computed
    for every row and kept where the row's length calls for it: cheaper than a gather and a
    scatter of the rows that take part.
    """
    words = _words(buf, "<u8")
    h = seeds + _P5  # the hash of strings shorter than a 32-byte stripe starts here
    stripes = lengths >> 5
    long_rows = np.flatnonzero(stripes)
    if len(long_rows):
        # Longest first, so the rows still striping at pass j are a prefix (a slice).
        long_rows = long_rows[np.argsort(-stripes[long_rows], kind="stable")]
        counts = stripes[long_rows]
        pos = starts[long_rows]
        v = _start(seeds[long_rows])
        active = len(long_rows)
        for j in range(int(counts[0])):
            while counts[active - 1] <= j:
                active -= 1
            for lane in range(4):
                _round(v[lane][:active], words[pos[:active] + (32 * j + 8 * lane)])
        h[long_rows] = _merge(*v)
    h += lengths.astype(np.uint64)
    if not len(h):
        return h

    pos = starts + (stripes << 5)
    tail_words = (lengths & 31) >> 3
    for k in range(int(tail_words.max())):
        _update(h, tail_words > k, _mix_word, words[pos + 8 * k])
    # The last 0 to 7 bytes, all read at once: the 4-byte word, then single bytes, are
    # taken from this one word (little-endian, so the first byte is the lowest).
    last = words[pos + (tail_words << 3)]
    rest = lengths & 7
    has_int = rest >= 4
    if has_int.any():
        _update(h, has_int, _mix_int, last & np.uint64(0xFFFFFFFF))
        last = np.where(has_int, last >> np.uint64(32), last)
    rest &= 3
    for k in range(int(rest.max())):
        _update(h, rest > k, _mix_byte, (last >> np.uint64(8 * k)) & np.uint64(0xFF))
    return _fmix(h)


def _update(h: _Ints, rows: _Ints, step: Callable[[_Ints, _Ints], _Ints], word: _Ints) -> None:
    """``h = step(h, word)`` on the ``rows`` (a boolean mask), in place."""
    if rows.all():
        step(h, word)
    else:
        np.copyto(h, step(h.copy(), word), where=rows)


def _hash_equal_lengths(strings: _Ints, length: int, seeds: _Ints) -> _Ints:
    """XXH64 of the first ``length`` bytes of each row of ``strings``, with its seed.

    The same algorithm as :func:`_hash_bytes` for strings of one length laid out in a
    matrix whose rows are whole 8-byte words: words are read as columns, without a gather.
    """
    words = strings.view("<u8")
    ints = strings.view("<u4")
    stripes = length // 32
    if stripes:
        v = _start(seeds)
        for j in range(stripes):
            for lane in range(4):
                _round(v[lane], words[:, 4 * j + lane].astype(np.uint64))
        h = _merge(*v)
    else:
        h = seeds + _P5
    h += np.uint64(length)
    word = 4 * stripes
    for _ in range((length % 32) // 8):
        h = _mix_word(h, words[:, word].astype(np.uint64))
        word += 1
    at = 8 * word
    if length % 8 >= 4:
        h = _mix_int(h, ints[:, at // 4].astype(np.uint64))
        at += 4
    for k in range(length % 4):
        h = _mix_byte(h, strings[:, at + k])
    return _fmix(h)


def table_hash_total(
    data: pa.Table | pa.RecordBatch, columns: Sequence[str], workers: int = 2
) -> int:
    """:func:`hash_total` of :func:`row_hashes`, over slices hashed on ``workers`` threads.

    The hashing is numpy arithmetic over whole arrays, which releases the GIL: two slices
    on two cores take about half the time of one.
    """
    from concurrent.futures import ThreadPoolExecutor

    step = max(1, -(-data.num_rows // workers))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = [
            pool.submit(row_hashes, data.slice(start, step), columns)
            for start in range(0, max(data.num_rows, 1), step)
        ]
        return sum(hash_total(part.result()) for part in parts)

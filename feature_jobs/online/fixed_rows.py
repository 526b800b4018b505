"""Binary rows for views whose features are all fixed-width (double, long, timestamp, bool).

Layout of one entity's value, little-endian and packed: a null bitmap of ``ceil(k/8)``
bytes (bit j set: feature j has a value), then each feature in the snapshot's column
order: double ``d`` (the IEEE bits: every double, NaN and -0.0 included, round-trips
exactly), long and timestamp (epoch microseconds) ``q``, boolean ``?``. A null still
takes its slot (zero), so every row of a snapshot has the same size: the executors build
a whole batch with numpy in one pass, and a read of many entities is decoded by one
``struct.iter_unpack`` over their concatenation - no text to format or parse.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: struct and numpy codes of the fixed-width logical types.
_STRUCT = {"double": "d", "long": "q", "timestamp": "q", "boolean": "?"}
_NUMPY = {"double": "<f8", "long": "<i8", "timestamp": "<i8", "boolean": "?"}


def row_struct(types: Sequence[str]) -> struct.Struct | None:
    """The row layout for these feature types, or None when one is not fixed-width."""
    if not types or any(t not in _STRUCT for t in types):
        return None
    return struct.Struct(f"<{bitmap_size(len(types))}s" + "".join(_STRUCT[t] for t in types))


def bitmap_size(columns: int) -> int:
    """Bytes of the null bitmap of a row of ``columns`` features."""
    return (columns + 7) // 8


def encode(columns: Sequence[pa.Array], types: Sequence[str]) -> list[bytes]:
    """Encode rows given as Arrow columns (timestamps already cast to int64 microseconds)."""
    import numpy as np

    count = len(columns[0])
    layout = np.dtype(
        [("nulls", "u1", (bitmap_size(len(types)),))]
        + [(f"c{j}", _NUMPY[t]) for j, t in enumerate(types)]
    )
    rows = np.zeros(count, dtype=layout)
    valid = np.ones((count, len(types)), dtype=bool)
    for j, (column, kind) in enumerate(zip(columns, types, strict=True)):
        if column.null_count:
            valid[:, j] = column.is_valid().to_numpy(zero_copy_only=False)
            column = column.fill_null(False if kind == "boolean" else 0)
        rows[f"c{j}"] = column.to_numpy(zero_copy_only=False)
    rows["nulls"] = np.packbits(valid, axis=1, bitorder="little")
    data, size = rows.tobytes(), layout.itemsize
    return [data[i : i + size] for i in range(0, count * size, size)]


def decode(joined: bytes, layout: struct.Struct, columns: int) -> list[Sequence[Any]]:
    """Decode concatenated rows; nulls become None (timestamps stay epoch microseconds)."""
    full = _full_bitmap(columns)
    rows: list[Sequence[Any]] = []
    for record in layout.iter_unpack(joined):
        nulls = record[0]
        if nulls == full:
            rows.append(record[1:])
            continue
        values = list(record[1:])
        for j in range(columns):
            if not nulls[j >> 3] >> (j & 7) & 1:
                values[j] = None
        rows.append(values)
    return rows


def _full_bitmap(columns: int) -> bytes:
    bits = bytearray(bitmap_size(columns))
    for j in range(columns):
        bits[j >> 3] |= 1 << (j & 7)
    return bytes(bits)

"""Encoding of one entity's feature values in Redis, chosen per snapshot by its types.

Views whose features are all fixed-width are stored as packed binary rows (the last
section of this module); views with a string feature as a compact JSON array. :class:`RowCodec`
picks the encoding from the snapshot's column types, which its metadata records, so
readers always decode a snapshot the way it was written.

JSON keeps the value types apart without a schema (``3`` is a long, ``3.0`` a double,
``true`` a boolean, ``null`` a null) and Python writes doubles with the shortest text that
reads back to the same bits, so every double, long, string, boolean and null round-trips
exactly; NaN and infinities use Python's ``NaN``/``Infinity`` extension. Timestamps are
stored as microseconds since the epoch (UTC) and turned back into aware datetimes using
the snapshot's recorded column types. The values are stored in the snapshot's column
order (kept in its metadata), so the order never has to be guessed at read time.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_DECODE = json.JSONDecoder().decode


@dataclass(frozen=True)
class RowCodec:
    """How the rows of one snapshot are encoded; built from its feature types."""

    types: tuple[str, ...]
    layout: struct.Struct | None  # None: JSON text

    @classmethod
    def for_types(cls, types: Sequence[str]) -> RowCodec:
        """Binary rows when every type is fixed-width, else JSON."""
        return cls(tuple(types), row_struct(types))

    @classmethod
    def from_schema(cls, types: Sequence[str], encoding: str) -> RowCodec:
        """The codec a snapshot's schema records (``"json"`` for snapshots before binary rows)."""
        return cls.for_types(types) if encoding == "struct" else cls(tuple(types), None)

    @property
    def name(self) -> str:
        """``"struct"`` or ``"json"``, as recorded in the snapshot's schema."""
        return "json" if self.layout is None else "struct"

    @property
    def separator(self) -> str:
        """What the READ script puts between the rows it concatenates."""
        return "," if self.layout is None else ""

    @property
    def timestamp_positions(self) -> tuple[int, ...]:
        """Columns holding epoch microseconds, turned into datetimes when decoded."""
        return tuple(i for i, t in enumerate(self.types) if t == "timestamp")

    def encode(self, columns: Sequence[pa.Array]) -> list[bytes]:
        """Encode rows from Arrow columns (timestamps cast to int64 microseconds)."""
        if self.layout is None:
            return encode_columns(columns)
        return encode_fixed_rows(columns, self.types)

    def decode(self, presence: bytes, joined: bytes) -> list[Sequence[Any] | None]:
        """Rows of a READ reply: ``presence`` holds b"1"/b"0" per entity, ``joined`` the
        present entities' values concatenated with :attr:`separator`."""
        if self.layout is None:
            present: list[Any] = _DECODE("[" + joined.decode("utf-8") + "]")
        else:
            present = decode_fixed_rows(joined, self.layout, len(self.types))
        stamps = self.timestamp_positions
        if stamps:
            present = [_with_datetimes(values, stamps) for values in present]
        found = iter(present)
        return [next(found) if flag == 49 else None for flag in presence]  # 49: b"1"


def _with_datetimes(values: Sequence[Any], positions: Sequence[int]) -> list[Any]:
    converted = list(values)
    for position in positions:
        if converted[position] is not None:
            converted[position] = micros_to_datetime(converted[position])
    return converted


def encode_columns(columns: Sequence[pa.Array]) -> list[bytes]:
    """Encode rows given as Arrow columns (the executors' form); the text compact json.dumps
    would give.

    Each column is turned into JSON texts in one pass (``float.__repr__``/``int.__repr__``
    mapped over the column when it has no null or non-finite value), then rows are joined:
    several times faster than a JSON encoder call per row.
    """
    texts = [_column_texts(column) for column in columns]
    return [("[" + ",".join(row) + "]").encode("utf-8") for row in zip(*texts, strict=True)]


def _column_texts(column: pa.Array) -> list[str]:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind, values = column.type, column.to_pylist()
    if pa.types.is_floating(kind):
        if column.null_count == 0 and pc.all(pc.is_finite(column)).as_py() is not False:
            return list(map(float.__repr__, values))
        return [_float_text(v) for v in values]
    if pa.types.is_integer(kind):
        if column.null_count == 0:
            return list(map(int.__repr__, values))
        return ["null" if v is None else int.__repr__(v) for v in values]
    if pa.types.is_boolean(kind):
        return ["null" if v is None else ("true" if v else "false") for v in values]
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return ["null" if v is None else encode_basestring(v) for v in values]
    return [_ENCODE(v) for v in values]


def _float_text(value: float | None) -> str:
    # The spellings json.dumps uses, so both encoders give the same text.
    if value is None:
        return "null"
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def datetime_to_micros(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, no float rounding)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def micros_to_datetime(micros: int) -> datetime:
    """The aware UTC datetime of a count of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


# -- fixed-width binary rows ---------------------------------------------------------------
# For views whose features are all fixed-width (double, long, timestamp, bool). Layout of
# one entity's value, little-endian and packed: a null bitmap of ``ceil(k/8)`` bytes (bit j
# set: feature j has a value), then each feature in the snapshot's column order: double
# ``d`` (the IEEE bits: every double, NaN and -0.0 included, round-trips exactly), long and
# timestamp (epoch microseconds) ``q``, boolean ``?``. A null still takes its slot (zero),
# so every row of a snapshot has the same size: the executors build a whole batch with
# numpy in one pass, and a read of many entities is decoded by one ``struct.iter_unpack``
# over their concatenation - no text to format or parse.

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


def encode_fixed_rows(columns: Sequence[pa.Array], types: Sequence[str]) -> list[bytes]:
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


def decode_fixed_rows(joined: bytes, layout: struct.Struct, columns: int) -> list[Sequence[Any]]:
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

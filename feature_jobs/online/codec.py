"""Encoding of one entity's feature values in Redis, chosen per snapshot by its types.

Views whose features are all fixed-width are stored as packed binary rows (see
``fixed_rows.py``); views with a string feature as a compact JSON array. :class:`RowCodec`
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

from feature_jobs.online import fixed_rows

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
        return cls(tuple(types), fixed_rows.row_struct(types))

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
        return fixed_rows.encode(columns, self.types)

    def decode(self, presence: bytes, joined: bytes) -> list[Sequence[Any] | None]:
        """Rows of a READ reply: ``presence`` holds b"1"/b"0" per entity, ``joined`` the
        present entities' values concatenated with :attr:`separator`."""
        if self.layout is None:
            present: list[Any] = _DECODE("[" + joined.decode("utf-8") + "]")
        else:
            present = fixed_rows.decode(joined, self.layout, len(self.types))
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

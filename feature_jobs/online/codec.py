"""Encoding of one entity's feature values in Redis: a compact JSON array.

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
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_DECODE = json.JSONDecoder().decode


def encode_values(rows: Iterable[Sequence[Any]]) -> list[bytes]:
    """Encode rows of feature values (timestamps already as epoch microseconds)."""
    return [_ENCODE(row).encode("utf-8") for row in rows]


def encode_columns(columns: Sequence[pa.Array]) -> list[bytes]:
    """Encode rows given as Arrow columns (the executors' form); same text as encode_values.

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


def decode_joined(raw: bytes, timestamp_positions: Sequence[int] = ()) -> list[list[Any] | None]:
    """Decode the READ script's JSON array of stored arrays (null: entity absent)."""
    rows: list[list[Any] | None] = _DECODE(raw.decode("utf-8"))
    if timestamp_positions:
        for values in rows:
            if values is None:
                continue
            for position in timestamp_positions:
                if values[position] is not None:
                    values[position] = micros_to_datetime(values[position])
    return rows


def datetime_to_micros(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, no float rounding)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def micros_to_datetime(micros: int) -> datetime:
    """The aware UTC datetime of a count of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)

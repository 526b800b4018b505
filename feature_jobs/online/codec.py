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
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_DECODE = json.JSONDecoder().decode


def encode_values(rows: Iterable[Sequence[Any]]) -> list[bytes]:
    """Encode rows of feature values (timestamps already as epoch microseconds)."""
    return [_ENCODE(row).encode("utf-8") for row in rows]


def decode_values(raw: bytes, timestamp_positions: Sequence[int] = ()) -> list[Any]:
    """Decode one stored value array; ``timestamp_positions`` become aware datetimes."""
    values: list[Any] = _DECODE(raw.decode("utf-8"))
    for position in timestamp_positions:
        micros = values[position]
        if micros is not None:
            values[position] = micros_to_datetime(micros)
    return values


def decode_many(raws: Sequence[bytes], timestamp_positions: Sequence[int] = ()) -> list[list[Any]]:
    """Decode many stored value arrays with one parser call (the read path's batch form)."""
    if not raws:
        return []
    rows: list[list[Any]] = _DECODE((b"[" + b",".join(raws) + b"]").decode("utf-8"))
    for values in rows if timestamp_positions else ():
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

"""Row encoding: binary rows of all-numeric views (every value, null, NaN and -0.0
round-trips exactly); a view with a string feature keeps JSON rows."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pyarrow as pa

from feature_jobs.online.codec import RowCodec, datetime_to_micros

TYPES = ("double", "long", "timestamp", "boolean", "double")


def test_round_trip_with_nulls_and_special_doubles() -> None:
    stamp = datetime(2024, 3, 31, 1, 30, 0, 123456, tzinfo=UTC)
    doubles = [1.5, None, float("nan"), -0.0, float("inf")]
    longs = [2**63 - 1, -(2**63), None, 0, 7]
    stamps = [datetime_to_micros(stamp), None, 0, -1, 1]
    bools = [True, False, None, True, None]
    last = [None, None, None, None, 2.5]
    codec = RowCodec.for_types(TYPES)
    assert codec.name == "struct" and codec.separator == ""
    columns = [
        pa.array(doubles, pa.float64()),
        pa.array(longs, pa.int64()),
        pa.array(stamps, pa.int64()),
        pa.array(bools, pa.bool_()),
        pa.array(last, pa.float64()),
    ]
    encoded = codec.encode(columns)
    assert len({len(row) for row in encoded}) == 1  # fixed width
    rows = codec.decode(b"10111", b"".join(encoded[i] for i in (0, 2, 3, 4)))
    assert rows[1] is None  # absent entity
    first, third, fourth, fifth = rows[0], rows[2], rows[3], rows[4]
    assert first is not None and third is not None and fourth is not None
    assert fifth is not None
    assert list(first) == [1.5, 2**63 - 1, stamp, True, None]
    assert math.isnan(third[0]) and third[1:] == [None, datetime(1970, 1, 1, tzinfo=UTC), None,
                                                    None]  # fmt: skip
    assert math.copysign(1.0, fourth[0]) == -1.0 and fourth[1] == 0
    assert fifth[0] == float("inf") and fifth[3] is None and fifth[4] == 2.5


def test_a_string_feature_keeps_json() -> None:
    codec = RowCodec.for_types(("double", "string"))
    assert codec.name == "json" and codec.separator == ","
    encoded = codec.encode([pa.array([1.0, None]), pa.array(["FR", None])])
    assert encoded == [b'[1.0,"FR"]', b"[null,null]"]
    assert codec.decode(b"101", b",".join(encoded)) == [[1.0, "FR"], None, [None, None]]

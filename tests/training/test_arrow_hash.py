"""The numpy/Arrow row checksum equals Spark's, row for row and in total.

Every test writes a pyarrow table to Parquet, reads it back with Spark, and compares
Spark's ``xxhash64(..., mask)`` (:func:`feature_jobs.training.hashing.row_hash`) and
``hash_sum`` with :mod:`feature_jobs.training.arrow_hash` on the same Arrow table.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from feature_jobs.errors import TrainingSetError
from feature_jobs.training.arrow_hash import hash_total, row_hashes, spark_type_name
from feature_jobs.training.hashing import hash_sum, row_hash

ROW_ID = "rid"
I32 = (-(2**31), 2**31 - 1)
I64 = (-(2**63), 2**63 - 1)
YEAR_1_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00 in epoch microseconds
YEAR_10000_US = 253_402_300_800_000_000  # 10000-01-01T00:00:00


def spark_hashes(
    spark: SparkSession, table: pa.Table, columns: list[str], folder: Path
) -> tuple[list[int], int]:
    """Spark's row hashes (in ``rid`` order) and its ``hash_sum`` of ``table``."""
    path = folder / f"{uuid.uuid4().hex}.parquet"
    pq.write_table(table.append_column(ROW_ID, pa.array(range(table.num_rows), pa.int64())), path)
    frame = spark.read.parquet(str(path))
    rows = frame.select(ROW_ID, row_hash(columns).alias("h")).collect()
    total = frame.agg(hash_sum(columns).alias("t")).first()
    assert total is not None
    by_id = {r[ROW_ID]: r["h"] for r in rows}
    return [by_id[i] for i in range(table.num_rows)], int(total["t"])


def assert_same_as_spark(
    spark: SparkSession, table: pa.Table, columns: list[str], folder: Path, hashed: pa.Table
) -> None:
    """``row_hashes(hashed)`` (``table`` rechunked, sliced...) equals Spark's on ``table``."""
    expected, spark_total = spark_hashes(spark, table, columns, folder)
    got = row_hashes(hashed, columns)
    assert got.dtype == np.int64
    assert len(got) == table.num_rows
    wrong = [i for i, (g, e) in enumerate(zip(got.tolist(), expected, strict=True)) if g != e]
    assert not wrong, (
        f"{len(wrong)} rows differ; first: row {wrong[0]} "
        f"{table.select(columns).slice(wrong[0], 1).to_pylist()}"
    )
    assert hash_total(got) == spark_total == sum(expected)


def with_nulls(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


def ints(bits: int) -> st.SearchStrategy[int]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return st.one_of(st.sampled_from([low, high, 0, -1, 1]), st.integers(low, high))


def floats(width: Literal[32, 64]) -> st.SearchStrategy[float]:
    specials = [math.nan, -0.0, 0.0, math.inf, -math.inf]
    return st.one_of(st.sampled_from(specials), st.floats(width=width))


def texts() -> st.SearchStrategy[str]:
    # Lengths around every XXH64 path: bytes, a 4-byte word, 8-byte words, 32-byte stripes.
    return st.one_of(
        st.text(max_size=10),
        st.text(st.characters(max_codepoint=127), min_size=0, max_size=80),
        st.text(min_size=20, max_size=80),
    )


def decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    top = 10**precision - 1
    unscaled = st.one_of(st.sampled_from([top, -top, 0]), st.integers(-top, top))
    return unscaled.map(lambda u: Decimal(u).scaleb(-scale))


def micros(unit_us: int) -> st.SearchStrategy[int]:
    """Timestamps in ``unit_us`` units from year 1 to 9999, with 1970 and just before."""
    low, high = YEAR_1_US // unit_us, YEAR_10000_US // unit_us - 1
    return st.one_of(st.sampled_from([0, -1, low, high]), st.integers(low, high))


#: name -> (Arrow type, values); every column is nullable.
COLUMNS: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "i8": (pa.int8(), ints(8)),
    "i16": (pa.int16(), ints(16)),
    "i32": (pa.int32(), ints(32)),
    "i64": (pa.int64(), ints(64)),
    "flag": (pa.bool_(), st.booleans()),
    "f32": (pa.float32(), floats(32)),
    "f64": (pa.float64(), floats(64)),
    "s": (pa.string(), texts()),
    "ls": (pa.large_string(), texts()),
    "bin": (pa.binary(), st.binary(max_size=80)),
    "day": (pa.date32(), st.dates()),
    "ts_utc": (pa.timestamp("us", "UTC"), micros(1)),
    "ts_ntz": (pa.timestamp("us"), micros(1)),
    "ts_ms": (pa.timestamp("ms", "UTC"), micros(1_000)),
    "ts_s_ntz": (pa.timestamp("s"), micros(1_000_000)),
    "dec": (pa.decimal128(10, 2), decimals(10, 2)),
    "dec18": (pa.decimal128(18, 4), decimals(18, 4)),
    "cat": (pa.dictionary(pa.int32(), pa.string()), st.sampled_from(["", "a", "é" * 20, "b" * 33])),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[pa.Table, list[str], int]:
    """A table of every column type, the columns to hash (order and subset), a chunk size."""
    rows = draw(st.integers(min_value=0, max_value=60))
    arrays = {}
    for name, (arrow_type, values) in COLUMNS.items():
        drawn = draw(st.lists(with_nulls(values), min_size=rows, max_size=rows))
        if pa.types.is_dictionary(arrow_type):
            arrays[name] = pa.array(drawn, pa.string()).dictionary_encode()
        else:
            arrays[name] = pa.array(drawn, arrow_type)
    columns = draw(st.lists(st.sampled_from(list(COLUMNS)), min_size=1, unique=True))
    chunk = draw(st.integers(min_value=1, max_value=25))
    return pa.table(arrays), columns, chunk


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=tables())
def test_row_hashes_equal_spark_on_random_tables(
    spark: SparkSession,
    tmp_path_factory: pytest.TempPathFactory,
    drawn: tuple[pa.Table, list[str], int],
) -> None:
    table, columns, chunk = drawn
    folder = tmp_path_factory.mktemp("random")
    # Chunks that are slices of the original buffers (non-zero offsets) hash alike.
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=chunk), schema=table.schema)
    assert_same_as_spark(spark, table, columns, folder, rechunked)
    if table.num_rows:
        batch = table.combine_chunks().to_batches()[0]
        assert row_hashes(batch, columns).tolist() == row_hashes(table, columns).tolist()


def test_edge_values_equal_spark(spark: SparkSession, tmp_path: Path) -> None:
    # Non-canonical NaNs: Spark's doubleToLongBits / floatToIntBits fold them into one.
    floats64 = np.array([math.nan, -0.0, 0.0, math.inf, -math.inf, 5e-324, -1.5, 0, 0, 0])
    floats64.view(np.uint64)[7:9] = [0x7FF0000000000001, 0xFFF8000000000000]
    floats32 = np.array([math.nan, -0.0, 0.0, math.inf, -math.inf, 1e-45, -1.5, 0, 0, 0], "f4")
    floats32.view(np.uint32)[7:9] = [0x7F800001, 0xFFC00000]
    last_null = np.arange(10) == 9
    n = len(floats64)
    strings = ["", "a", "abc", "abcd", "é", "日本語", "x" * 31, "y" * 32, "z" * 80, None]
    binaries = [s.encode() if s is not None else None for s in strings]
    binaries[1] = b"\x00\xff\x80"
    table = pa.table(
        {
            "i32": pa.array([*I32, 0, -1, 1, 7, None, 3, 4, None], pa.int32()),
            "i64": pa.array([*I64, 0, -1, 1, 7, None, 3, 4, None], pa.int64()),
            "f64": pa.array(floats64, pa.float64(), mask=last_null),
            "f32": pa.array(floats32, pa.float32(), mask=last_null),
            "s": pa.array(strings, pa.string()),
            "bin": pa.array(binaries, pa.binary()),
            "flag": pa.array([True, False, None, True, False, True, False, True, False, None]),
            "day": pa.array(
                [
                    dt.date(1, 1, 1),
                    dt.date(1582, 10, 4),
                    dt.date(1969, 12, 31),
                    dt.date(9999, 12, 31),
                ]
                + [dt.date(1970, 1, 1)] * (n - 5)
                + [None]
            ),
            "ts": pa.array(
                [YEAR_1_US, -1, 0, 1, YEAR_10000_US - 1, -86_400_000_001, 5, 6, 7, None],
                pa.timestamp("us", "UTC"),
            ),
        }
    )
    assert table.num_rows == n
    columns = table.column_names
    assert_same_as_spark(spark, table, columns, tmp_path, table)
    # Each column on its own, and every column in reverse order.
    for name in columns:
        assert_same_as_spark(spark, table, [name], tmp_path, table)
    assert_same_as_spark(spark, table, columns[::-1], tmp_path, table)


def test_a_row_of_nulls_and_no_rows_equal_spark(spark: SparkSession, tmp_path: Path) -> None:
    table = pa.table(
        {
            "a": pa.array([None, None], pa.int64()),
            "b": pa.array([None, "x"], pa.string()),
            "c": pa.array([None, None], pa.float64()),
        }
    )
    assert_same_as_spark(spark, table, ["a", "b", "c"], tmp_path, table)
    empty = table.slice(0, 0)
    assert_same_as_spark(spark, empty, ["a", "b", "c"], tmp_path, empty)
    assert hash_total(np.zeros(0, np.int64)) == 0


def test_many_columns_make_a_mask_longer_than_a_stripe(spark: SparkSession, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    arrays = {}
    for i in range(45):  # a 45-byte mask: a 32-byte stripe, a word, a 4-byte word, a byte
        values = rng.integers(-5, 5, size=50)
        arrays[f"c{i}"] = pa.array(values, pa.int64(), mask=rng.random(50) < 0.3)
    table = pa.table(arrays)
    assert_same_as_spark(spark, table, table.column_names, tmp_path, table)


def test_totals_equal_spark_on_200k_rows(spark: SparkSession, tmp_path: Path) -> None:
    rng = np.random.default_rng(20240301)
    n = 200_000
    # Random words of 0 to 80 characters (some of them 2 or 3 bytes), cut from one pool.
    pool = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyzé日0123456789"), size=100_000))
    lengths = rng.integers(0, 81, size=n).tolist()
    starts = rng.integers(0, len(pool) - 80, size=n).tolist()
    words = [pool[s : s + k] for s, k in zip(starts, lengths, strict=True)]
    floats64 = rng.normal(size=n)
    floats64[rng.random(n) < 0.01] = np.nan
    table = pa.table(
        {
            "id": pa.array(rng.integers(I64[0], I64[1], size=n, endpoint=True), pa.int64()),
            "x": pa.array(floats64, pa.float64(), mask=rng.random(n) < 0.1),
            "word": pa.array(words, pa.string(), mask=rng.random(n) < 0.05),
            "ts": pa.array(
                rng.integers(YEAR_1_US, YEAR_10000_US, size=n), pa.timestamp("us", "UTC")
            ),
            "k": pa.array(rng.integers(-100, 100, size=n), pa.int32()),
        }
    )
    columns = table.column_names
    path = tmp_path / "big.parquet"
    pq.write_table(table, path, row_group_size=50_000)
    total = spark.read.parquet(str(path)).agg(hash_sum(columns).alias("t")).first()
    assert total is not None
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=30_000))
    assert hash_total(row_hashes(rechunked, columns)) == int(total["t"])


SPARK_TYPES: dict[str, pa.DataType] = {
    "i8": pa.int8(),
    "i16": pa.int16(),
    "i32": pa.int32(),
    "i64": pa.int64(),
    "f32": pa.float32(),
    "f64": pa.float64(),
    "flag": pa.bool_(),
    "s": pa.string(),
    "ls": pa.large_string(),
    "sv": pa.string_view(),
    "cat": pa.dictionary(pa.int32(), pa.string()),
    "bin": pa.binary(),
    "lbin": pa.large_binary(),
    "day": pa.date32(),
    "ts_s_tz": pa.timestamp("s", "UTC"),
    "ts_ms_tz": pa.timestamp("ms", "Europe/Paris"),
    "ts_us_tz": pa.timestamp("us", "UTC"),
    "ts_s": pa.timestamp("s"),
    "ts_ms": pa.timestamp("ms"),
    "ts_us": pa.timestamp("us"),
    "dec": pa.decimal128(10, 2),
    "dec18": pa.decimal128(18, 0),
}


def test_spark_type_name_is_what_spark_reads_from_parquet(
    spark: SparkSession, tmp_path: Path
) -> None:
    arrays = {name: pa.nulls(3, t) for name, t in SPARK_TYPES.items() if name not in ("cat", "sv")}
    arrays["cat"] = pa.array(["a", None, "b" * 40]).dictionary_encode()
    arrays["sv"] = pa.array(["a", None, "b" * 40], pa.string_view())
    table = pa.table(arrays)
    path = tmp_path / "types.parquet"
    pq.write_table(table, path)
    read = {f.name: f.dataType.simpleString() for f in spark.read.parquet(str(path)).schema}
    assert {name: spark_type_name(t) for name, t in SPARK_TYPES.items()} == read
    assert read["ts_us"] == "timestamp_ntz"  # isAdjustedToUTC=false: Spark's TIMESTAMP_NTZ
    # The session's dictionary and view columns hash as their values, like Spark reads them.
    assert_same_as_spark(spark, table, ["cat", "sv", "i8"], tmp_path, table)


@pytest.mark.parametrize(
    "arrow_type",
    [
        pa.decimal128(19, 0),
        pa.uint8(),
        pa.uint64(),
        pa.float16(),
        pa.date64(),
        pa.list_(pa.int64()),
        pa.struct([("a", pa.int64())]),
        pa.null(),
    ],
    ids=str,
)
def test_unsupported_types_are_refused_with_the_column_name(arrow_type: pa.DataType) -> None:
    table = pa.table({"fine": pa.array([1], pa.int64()), "odd col": pa.nulls(1, arrow_type)})
    with pytest.raises(TrainingSetError, match="column 'odd col'") as error:
        row_hashes(table, ["fine", "odd col"])
    assert str(arrow_type) in str(error.value)
    assert "\n" not in str(error.value)
    with pytest.raises(TrainingSetError):
        spark_type_name(arrow_type)


def test_a_missing_column_is_refused() -> None:
    with pytest.raises(TrainingSetError, match="'gone'"):
        row_hashes(pa.table({"a": [1]}), ["a", "gone"])


def test_nanoseconds_hash_as_whole_microseconds_or_are_refused() -> None:
    micros_ = pa.array([-1_000_001, 0, None, 86_400_000_000], pa.timestamp("us", "UTC"))
    nanos = micros_.cast(pa.timestamp("ns", "UTC"))
    seconds = pa.array([-2, 0, None, 86_400], pa.timestamp("s"))
    expected = row_hashes(pa.table({"t": micros_}), ["t"])
    assert row_hashes(pa.table({"t": nanos}), ["t"]).tolist() == expected.tolist()
    assert (
        row_hashes(pa.table({"t": seconds}), ["t"]).tolist()
        == row_hashes(pa.table({"t": seconds.cast(pa.timestamp("us"))}), ["t"]).tolist()
    )
    assert spark_type_name(nanos.type) == "timestamp"
    uneven = pa.array([0, 1_500], pa.timestamp("ns"))
    with pytest.raises(TrainingSetError, match="column 't'"):
        row_hashes(pa.table({"t": uneven}), ["t"])


def test_hash_total_is_the_exact_sum() -> None:
    values = [I64[0], I64[1], I64[1], -1, 0, 12345, I64[0]]
    for count in range(len(values) + 1):
        for chosen in itertools.combinations(values, count):
            assert hash_total(np.array(chosen, np.int64)) == sum(chosen)


def test_null_slots_that_span_bytes_hash_as_nulls() -> None:
    # Arrow lets a null string slot cover bytes (from compute kernels, other writers).
    validity = pa.py_buffer(np.packbits([0, 1, 1], bitorder="little").tobytes())
    offsets = pa.py_buffer(np.array([0, 40, 43, 43], np.int32).tobytes())
    data = pa.py_buffer(b"z" * 40 + b"abc")
    odd = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, data])
    plain = pa.array([None, "abc", ""], pa.string())
    assert odd.to_pylist() == plain.to_pylist()
    assert row_hashes(pa.table({"s": odd}), ["s"]).tolist() == (
        row_hashes(pa.table({"s": plain}), ["s"]).tolist()
    )

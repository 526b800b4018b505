"""Order-independent fingerprints of DataFrames, computed on the executors.

A fingerprint is the row count and the sum of a 64-bit hash of every row: equal for the
same multiset of rows whatever their order or partitioning, and changed by any edited,
added, removed or duplicated row. The sum is taken as a decimal so it cannot overflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


_DECIMAL = "decimal(38,0)"


def qcol(name: str) -> Column:
    """A column by its exact name, even with dots or spaces in it."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def row_hash(columns: Sequence[str]) -> Column:
    """64-bit hash of a row's ``columns``.

    ``xxhash64`` skips nulls, so ``(null, 1)`` and ``(1, null)`` would hash alike; a mask
    of which columns are null is hashed along.
    """
    from pyspark.sql import functions as F

    mask = F.concat(*[F.when(qcol(c).isNull(), F.lit("1")).otherwise(F.lit("0")) for c in columns])
    return F.xxhash64(*[qcol(c) for c in columns], mask)


def hash_sum(columns: Sequence[str]) -> Column:
    """Aggregate: sum of :func:`row_hash` over the rows (a decimal; 0 for no rows)."""
    return sum_of_hashes(row_hash(columns))


def sum_of_hashes(h: Column) -> Column:
    """Aggregate: the exact sum of a 64-bit hash column, as :func:`hash_sum` renders it."""
    from pyspark.sql import functions as F

    # The exact sum, without a 38-digit decimal addition per row (a BigDecimal each): the
    # high and low 32-bit halves are summed as longs (no overflow below 2^31 rows) and
    # recombined once, as hash = high * 2^32 + low.
    high = F.coalesce(F.sum(F.shiftright(h, 32)), F.lit(0)).cast(_DECIMAL)
    low = F.coalesce(F.sum(h.bitwiseAND(F.lit(0xFFFFFFFF))), F.lit(0)).cast(_DECIMAL)
    return (high * F.lit(1 << 32).cast(_DECIMAL) + low).cast(_DECIMAL)


def fingerprint(rows: int, total: object, schema: str) -> str:
    """Render a fingerprint: ``<rows>:<hash sum>:<short schema hash>``."""
    import hashlib

    schema_hash = hashlib.sha256(schema.encode()).hexdigest()[:12]
    return f"{rows}:{total}:{schema_hash}"


def schema_string(df: DataFrame) -> str:
    """Column names and types, the part of a fingerprint that is not in the rows."""
    return ",".join(f"{f.name}:{f.dataType.simpleString()}" for f in df.schema.fields)

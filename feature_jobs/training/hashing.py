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
    from pyspark.sql import functions as F

    return F.coalesce(
        F.sum(row_hash(columns).cast("decimal(38,0)")), F.lit(0).cast("decimal(38,0)")
    )


def fingerprint(rows: int, total: object, schema: str) -> str:
    """Render a fingerprint: ``<rows>:<hash sum>:<short schema hash>``."""
    import hashlib

    schema_hash = hashlib.sha256(schema.encode()).hexdigest()[:12]
    return f"{rows}:{total}:{schema_hash}"


def schema_string(df: DataFrame) -> str:
    """Column names and types, the part of a fingerprint that is not in the rows."""
    return ",".join(f"{f.name}:{f.dataType.simpleString()}" for f in df.schema.fields)

"""Raw source rows against their contract: structural + schemas/sources.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from feature_jobs.errors import SourceDataError
from feature_jobs.validation.source_gate import validate_source
from features import transactions

DDL = (
    "transaction_id STRING, user_id BIGINT, merchant_id BIGINT, amount DOUBLE, currency STRING, "
    "country STRING, channel STRING, status STRING, event_ts TIMESTAMP, ingested_ts TIMESTAMP"
)
TS = datetime(2024, 3, 1, 12, tzinfo=UTC)


def _rows(n: int = 12) -> list[tuple[Any, ...]]:
    return [
        (f"t{i}", i, 10_001 + i % 3, 10.0 + i, "EUR", "DE", "pos", "approved", TS, TS)
        for i in range(n)
    ]


def test_good_rows_pass(spark: Any) -> None:
    assert validate_source(spark, transactions, spark.createDataFrame(_rows(), DDL)) == 12


def test_bad_rows_fail_with_one_line_naming_checks_counts_and_examples(spark: Any) -> None:
    rows = _rows()
    rows[1] = (*rows[1][:4], "XXX", *rows[1][5:])
    rows[2] = (*rows[2][:4], "XXX", *rows[2][5:])
    rows[3] = (*rows[3][:3], 250_000.0, *rows[3][4:])
    rows[4] = (*rows[4][:8], None, TS)
    with pytest.raises(SourceDataError) as caught:
        validate_source(spark, transactions, spark.createDataFrame(rows, DDL))
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith("source transactions: 3 check(s) failed on 12 rows:")
    assert "not_null[event_ts]: 1/12 rows" in line
    assert "isin(['EUR', 'GBP', 'USD'])[currency]: 2/12 rows, e.g. 'XXX'" in line
    assert "less_than_or_equal_to(100000.0)[amount]: 1/12 rows, e.g. 250000.0" in line
    assert "schemas/sources.py" in line


def test_wrong_type_is_named(spark: Any) -> None:
    ddl = DDL.replace("amount DOUBLE", "amount STRING")
    rows = [(*r[:3], str(r[3]), *r[4:]) for r in _rows()]
    with pytest.raises(SourceDataError, match=r"dtype\('DoubleType\(\)'\)\[amount\]: 12/12 rows"):
        validate_source(spark, transactions, spark.createDataFrame(rows, ddl))

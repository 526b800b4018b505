"""The leakage report's wording and its guarantee (no Spark: the report is plain data)."""

from __future__ import annotations

import pytest

from feature_jobs.errors import TrainingSetError
from feature_jobs.training.leakage import describe, with_future_rows

NAIVE = {
    "rows": 200,
    "naive_join_rows_using_future_values": 150,
    "naive_join_per_view": {"users": 150, "shops": 20},
}


def test_the_report_says_the_guarantee_first_then_what_a_naive_join_would_do() -> None:
    report = with_future_rows(NAIVE, 0)
    assert report["rows_using_future_values"] == 0
    assert report["summary"] == (
        "rows using future values: 0 of 200; a naive latest-value join would have used "
        "values from after the row's timestamp in 150 (75.0%) (users 150, shops 20)"
    )
    assert list(report)[:2] == ["summary", "rows_using_future_values"]


def test_a_written_row_using_a_future_value_refuses_the_build() -> None:
    with pytest.raises(TrainingSetError, match=r"^3 rows of the joined output use a feature"):
        with_future_rows(NAIVE, 3)


def test_manifests_written_before_the_wording_changed_still_read() -> None:
    old = {"rows": 4, "rows_leaking": 1, "per_view": {"shop_daily": 1}}
    assert describe(old) == (
        "4 rows joined point-in-time; a naive latest-value join would have used values "
        "from after the row's timestamp in 1 (25.0%) (shop_daily 1)"
    )

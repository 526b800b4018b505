"""The backfill request check the DAG runs before any Spark work (pure Python)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from feature_jobs.airflow_support.backfill import (
    MAX_BACKFILL_DAYS,
    BackfillRequest,
    check_backfill_request,
    step_args,
    step_dates,
)
from feature_jobs.definitions import load_registry
from feature_jobs.errors import TimeSemanticsError, UnsafeInputError

REGISTRY = load_registry("features")
USER, MERCHANT = "user_transaction_stats", "merchant_transaction_stats"
# Five past midnight on 2026-03-10: 2026-03-09 has just ended, 2026-03-10 has not.
NOW = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)


def _params(**changes: object) -> dict[str, object]:
    params: dict[str, object] = {"views": [USER], "start": "2026-03-01", "end": "2026-03-03"}
    params.update(changes)
    return params


def test_valid_request_is_sorted_and_deduplicated() -> None:
    request = check_backfill_request(
        _params(views=[USER, MERCHANT, USER], end="2026-03-09"), REGISTRY, NOW
    )
    assert request == BackfillRequest(
        views=(MERCHANT, USER), start=date(2026, 3, 1), end=date(2026, 3, 9)
    )
    assert request.days == 9
    assert str(request) == f"{MERCHANT}, {USER} from 2026-03-01 to 2026-03-09 (9 day(s))"


def test_a_single_day_and_the_longest_range_are_accepted() -> None:
    one = check_backfill_request(_params(start="2026-03-09", end="2026-03-09"), REGISTRY, NOW)
    assert one.days == 1
    # 2025-03-09 .. 2026-03-09 inclusive is 366 days.
    longest = check_backfill_request(_params(start="2025-03-09", end="2026-03-09"), REGISTRY, NOW)
    assert longest.days == MAX_BACKFILL_DAYS


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"views": ["nope"]}, UnsafeInputError, "views: 'nope' is not a feature view; choose"),
        ({"views": [USER, 7]}, UnsafeInputError, "views: 7 is not a feature view"),
        ({"views": []}, UnsafeInputError, "views is empty; pick at least one view"),
        ({"views": USER}, UnsafeInputError, "views must be a list of view names"),
        ({"views": None}, UnsafeInputError, "views must be a list of view names"),
        ({"start": None}, UnsafeInputError, "start is missing; pick a date"),
        ({"end": ""}, UnsafeInputError, "end is missing; pick a date"),
        ({"start": "03/01/2026"}, UnsafeInputError, "start '03/01/2026' is not a date"),
        ({"end": "2026-02-30"}, UnsafeInputError, "end '2026-02-30' is not a calendar date"),
        (
            {"start": "2026-03-05", "end": "2026-03-01"},
            UnsafeInputError,
            "end 2026-03-01 is before start 2026-03-05; set end on or after start",
        ),
        (
            {"end": "2026-03-10"},
            TimeSemanticsError,
            "end 2026-03-10 is not over yet (its snapshot is at 2026-03-11 00:00 UTC); "
            "set end to 2026-03-09 or earlier",
        ),
        (
            {"start": "2025-03-08", "end": "2026-03-09"},
            UnsafeInputError,
            "start 2025-03-08 to end 2026-03-09 is 367 days, more than 366; split the range",
        ),
    ],
)
def test_bad_requests_are_refused_with_the_field_and_the_fix(
    changes: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)) as raised:
        check_backfill_request(_params(**changes), REGISTRY, NOW)
    assert "\n" not in str(raised.value)


def test_unknown_view_message_lists_the_known_views() -> None:
    with pytest.raises(UnsafeInputError) as raised:
        check_backfill_request(_params(views=["nope"]), REGISTRY, NOW)
    assert str(raised.value).endswith(", ".join(sorted(REGISTRY.views)))


def test_naive_clock_is_refused() -> None:
    with pytest.raises(TimeSemanticsError, match="has no time zone"):
        check_backfill_request(_params(), REGISTRY, datetime(2026, 3, 10))


def test_materialize_gets_the_range_and_sync_and_check_its_newest_day() -> None:
    assert step_args("materialize", USER) == [
        "materialize", "--view", USER, "--start", "{{ params.start }}",
        "--end", "{{ params.end }}", "--run-id", "{{ run_id }}",
    ]  # fmt: skip
    for step in ("sync", "check"):
        assert step_args(step, USER) == [
            step, "--view", USER, "--date", "{{ params.end }}", "--run-id", "{{ run_id }}",
        ]  # fmt: skip
    assert step_dates("materialize") == "{{ params.start }} to {{ params.end }}"
    assert step_dates("sync") == "{{ params.end }}"

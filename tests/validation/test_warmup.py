"""Warm-up and baselines: which snapshots drift checks compare, and with what (no Spark).

DESIGN.md: a window W of the snapshot at C covers ``[C - W, C)``. It is full when it
starts at or after the source's first event; the snapshot is warming up while its longest
window (its population) is not full.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feature_jobs.errors import DefinitionError
from feature_jobs.offline.profiles import ProfileRow
from feature_jobs.validation import batch
from feature_jobs.validation.check_config import CheckSetting, batch_settings
from feature_jobs.validation.profile import Baseline, BaselineChain
from feature_jobs.validation.scan import ColumnProfile, Scan
from feature_jobs.validation.warmup import source_start_in, warm_up_reason, window_is_full
from features import merchant_transaction_stats, user_risk_signals

FIRST_EVENT = datetime(2026, 10, 23, tzinfo=UTC)
DAY = timedelta(days=1)
US = timedelta(microseconds=1)
MERCHANTS = merchant_transaction_stats  # windows 1d, 7d and 30d; txn_count_1d is a long
SHAPE = batch.ViewShape.of(MERCHANTS)


# -- the warm-up rule at the boundary ---------------------------------------------------


def test_a_window_starting_exactly_at_the_first_event_is_full() -> None:
    c = FIRST_EVENT + 30 * DAY  # [C - 30d, C) = [first event, C)
    assert window_is_full(c, 30 * DAY, FIRST_EVENT)
    assert warm_up_reason(MERCHANTS, c, FIRST_EVENT) is None


def test_a_window_starting_one_microsecond_before_the_first_event_is_warming_up() -> None:
    c = FIRST_EVENT + 30 * DAY - US
    assert not window_is_full(c, 30 * DAY, FIRST_EVENT)
    assert warm_up_reason(MERCHANTS, c, FIRST_EVENT) == (
        "warming up: the snapshot's 30d window starts before the first event of source "
        "transactions (2026-10-23T00:00:00Z); structural checks ran"
    )


def test_an_unknown_start_or_events_before_every_window_leave_every_window_full() -> None:
    assert window_is_full(FIRST_EVENT, 30 * DAY, None)
    assert warm_up_reason(MERCHANTS, FIRST_EVENT + DAY, None) is None


@given(
    offset_us=st.integers(min_value=-(10**12), max_value=10**12),
    window_days=st.integers(min_value=1, max_value=90),
)
def test_full_exactly_when_the_window_starts_at_or_after_the_first_event(
    offset_us: int, window_days: int
) -> None:
    window = window_days * DAY
    c = FIRST_EVENT + window + offset_us * US  # the window starts offset_us after it
    assert window_is_full(c, window, FIRST_EVENT) == (offset_us >= 0)


def test_the_population_window_decides_for_every_feature() -> None:
    # Day 8 after the first event: the 1- and 7-day windows are full, the 30-day one is
    # not, and the 30-day window decides which merchants the snapshot holds at all.
    c = FIRST_EVENT + 8 * DAY
    assert window_is_full(c, 7 * DAY, FIRST_EVENT)
    assert warm_up_reason(MERCHANTS, c, FIRST_EVENT) is not None


# -- baselines: full-window snapshots only, pooled over a week --------------------------


def _profile(
    column: str, mean: float, percentiles: tuple[float, ...], nulls: int = 0
) -> ColumnProfile:
    return ColumnProfile(column, True, nulls, mean, min(percentiles), max(percentiles), percentiles)


def _row(feature_ts: datetime, profile: ColumnProfile, rows: int = 200) -> ProfileRow:
    return ProfileRow(
        view=MERCHANTS.name, feature_ts=feature_ts, snapshot_date=(feature_ts - DAY).date(),
        run_id="r", gate_id=f"g{feature_ts:%d}", definition_version=MERCHANTS.version,
        status="passed", column=profile.column, row_count=rows, null_count=profile.null_count,
        null_rate=profile.null_count / rows, mean=profile.mean, min=profile.min,
        max=profile.max, percentiles=list(profile.percentiles or ()), psi=None,
        profiled_at=feature_ts + timedelta(hours=6),
    )  # fmt: skip


def _flat(value: float) -> tuple[float, ...]:
    return tuple([value] * 99)


def test_warming_up_snapshots_are_no_baseline() -> None:
    full_from = FIRST_EVENT + 30 * DAY
    stored = [_row(full_from - DAY, _profile("txn_count_7d", 5.0, _flat(5.0)))]
    chain = BaselineChain(stored, lambda ts: window_is_full(ts, 30 * DAY, FIRST_EVENT))
    assert chain.before(full_from + DAY) is None  # the only candidate was warming up
    chain.passed(full_from, Scan(200, {}, {"txn_count_7d": _profile("txn_count_7d", 9.0,
                                                                    _flat(9.0))}))  # fmt: skip
    baseline = chain.before(full_from + DAY)
    assert baseline is not None
    assert (baseline.feature_ts, baseline.snapshots, baseline.profiles["txn_count_7d"].mean) == (
        full_from,
        1,
        9.0,
    )


def test_the_baseline_pools_the_week_ending_with_the_previous_snapshot() -> None:
    start = FIRST_EVENT + 40 * DAY
    stored = [
        _row(start + i * DAY, _profile("amount_avg_7d", float(i), _flat(float(i))), rows=100 + i)
        for i in range(10)  # 10 days; the baseline of day 10 pools days 3..9
    ]
    baseline = BaselineChain(stored).before(start + 10 * DAY)
    assert baseline is not None
    assert (baseline.oldest, baseline.feature_ts, baseline.snapshots) == (
        start + 3 * DAY,
        start + 9 * DAY,
        7,
    )
    assert baseline.spans_week(DAY)
    assert baseline.rows == round(sum(100 + i for i in range(3, 10)) / 7)
    mean = baseline.profiles["amount_avg_7d"].mean
    assert mean == pytest.approx(sum(i * (100 + i) for i in range(3, 10)) / sum(range(103, 110)))
    # Half of the values are 3..5, half 6..9: the median is one of the members' values.
    assert baseline.profiles["amount_avg_7d"].percentiles is not None
    assert baseline.profiles["amount_avg_7d"].percentiles[49] in (5.0, 6.0)
    assert (baseline.profiles["amount_avg_7d"].min, baseline.profiles["amount_avg_7d"].max) == (
        3.0, 9.0
    )  # fmt: skip


def test_a_rerun_replaces_a_stored_profile_of_the_same_snapshot() -> None:
    c = FIRST_EVENT + 40 * DAY
    old = _row(c, _profile("txn_count_7d", 5.0, _flat(5.0)))
    newer = replace(_row(c, _profile("txn_count_7d", 7.0, _flat(7.0))),
                    profiled_at=old.profiled_at + DAY, gate_id="rerun")  # fmt: skip
    baseline = BaselineChain([newer, old]).before(c + DAY)
    assert baseline is not None and baseline.snapshots == 1
    assert baseline.profiles["txn_count_7d"].mean == 7.0


def test_pooling_identical_snapshots_keeps_their_percentiles() -> None:
    percentiles = tuple(float(i * i) for i in range(1, 100))
    profile = _profile("amount_sum_1d", 10.0, percentiles, nulls=4)
    stored = [_row(FIRST_EVENT + 40 * DAY + i * DAY, profile) for i in range(3)]
    baseline = BaselineChain(stored).before(FIRST_EVENT + 50 * DAY)
    assert baseline is not None and baseline.snapshots == 3
    pooled = baseline.profiles["amount_sum_1d"]
    assert (pooled.percentiles, pooled.mean, pooled.null_count) == (percentiles, 10.0, 4)


# -- what is compared: a whole week for short windows, a noise floor for means ----------


def _spread(mean: float) -> tuple[float, ...]:
    """Percentiles of values spread evenly over ``mean`` +- 50 %."""
    return tuple(mean * (0.5 + i / 98) for i in range(99))


def _scan(**means: float) -> Scan:
    return Scan(200, {}, {c: _profile(c, m, _spread(m)) for c, m in means.items()})


def _baseline(days: int, **means: float) -> Baseline:
    """A pool of ``days`` daily snapshots, each with these means."""
    newest = FIRST_EVENT + 40 * DAY
    return Baseline(newest, 200, dict(_scan(**means).profiles), newest - (days - 1) * DAY, days)


def test_short_windows_wait_for_a_whole_week_of_baseline() -> None:
    checks = batch_settings(MERCHANTS)
    scan = _scan(txn_count_1d=30.0, txn_count_7d=30.0)
    partial = _baseline(3, txn_count_1d=10.0, txn_count_7d=10.0)
    psi = batch.psi_by_column(scan, partial, SHAPE)
    assert set(psi) == {"txn_count_7d"}
    findings, skipped = batch.evaluate(checks, scan, partial, psi, SHAPE)
    assert {f.name for f in findings} == {"mean_shift_pct[txn_count_7d]", "psi[txn_count_7d]"}
    assert {s.name for s in skipped} == {
        "null_rate_jump[txn_count_1d]", "mean_shift_pct[txn_count_1d]", "psi[txn_count_1d]"
    }  # fmt: skip
    assert skipped[0].reason == (
        "a window shorter than a week is compared with a whole week of full-window "
        "snapshots; the baseline has 3"
    )
    week = _baseline(7, txn_count_1d=10.0, txn_count_7d=10.0)
    findings, skipped = batch.evaluate(checks, scan, week, batch.psi_by_column(scan, week, SHAPE),
                                       SHAPE)  # fmt: skip
    assert skipped == []
    assert {f.name for f in findings} == {
        "mean_shift_pct[txn_count_1d]", "psi[txn_count_1d]",
        "mean_shift_pct[txn_count_7d]", "psi[txn_count_7d]",
    }  # fmt: skip


def test_no_baseline_skips_every_check_with_the_reason() -> None:
    findings, skipped = batch.evaluate(batch_settings(MERCHANTS), _scan(txn_count_7d=1.0), None,
                                       {}, SHAPE)  # fmt: skip
    assert findings == []
    assert [s.name for s in skipped] == [
        "row_count_drop_pct", "null_rate_jump", "mean_shift_pct", "psi"
    ]  # fmt: skip
    assert {s.reason for s in skipped} == {
        "no earlier snapshot with full windows passed (within the lookback)"
    }


def test_a_count_mean_must_move_by_more_than_one_unit() -> None:
    checks = batch_settings(user_risk_signals)
    shape = batch.ViewShape.of(user_risk_signals)
    # 0.37 -> 0.79 night payments per user: +114 %, but less than one payment each.
    small = _mean_shift(checks, shape, "night_txn_count_7d", 0.37, 0.79)
    assert small == []
    assert _mean_shift(checks, shape, "night_txn_count_7d", 1.5, 3.0) == [100.0]
    # A fractional feature has no floor by default: +60 % of 0.5 counts.
    assert _mean_shift(checks, shape, "min_amount_7d", 0.5, 0.8) == [pytest.approx(60.0)]
    # The floor is the view's to set, for every column of the check.
    strict = batch_settings(replace(user_risk_signals,
                                    checks={"mean_shift_pct": {"min_shift": 5}}))  # fmt: skip
    assert _mean_shift(strict, shape, "night_txn_count_7d", 1.5, 3.0) == []
    assert _mean_shift(strict, shape, "min_amount_7d", 20.0, 40.0) == [100.0]


def _mean_shift(
    checks: dict[str, CheckSetting], shape: batch.ViewShape, column: str,
    before: float, after: float,
) -> list[float]:  # fmt: skip
    scan = Scan(2000, {}, {column: _profile(column, after, _flat(after))})
    baseline = Baseline(FIRST_EVENT + 40 * DAY, 2000, {column: _profile(column, before,
                              _flat(before))}, FIRST_EVENT + 34 * DAY, 7)  # fmt: skip
    findings, _ = batch.evaluate(checks, scan, baseline, {}, shape)
    return [f.observed for f in findings if f.check == "mean_shift_pct" and f.observed]


def test_min_shift_is_checked_where_it_is_configured() -> None:
    with pytest.raises(DefinitionError, match=r"min_shift applies only to mean_shift_pct"):
        batch_settings(replace(MERCHANTS, checks={"psi": {"min_shift": 1}}))
    with pytest.raises(DefinitionError, match=r"min_shift -1 must be a number >= 0"):
        batch_settings(replace(MERCHANTS, checks={"mean_shift_pct": {"min_shift": -1}}))
    assert batch_settings(MERCHANTS)["mean_shift_pct"].min_shift is None


# -- the source's first event, found in its data ----------------------------------------


def test_the_first_event_is_found_only_when_a_window_can_reach_before_it(spark: Any) -> None:
    events = spark.createDataFrame(
        [(FIRST_EVENT,), (FIRST_EVENT + 3 * DAY,), (FIRST_EVENT + 40 * DAY,)], "event_ts TIMESTAMP"
    )
    until = FIRST_EVENT + 35 * DAY
    # No event before the earliest window start: the first event is the start...
    assert source_start_in(events, "event_ts", FIRST_EVENT, until) == FIRST_EVENT
    # ... even when the earliest window starts exactly at it (then every window is full)...
    assert window_is_full(FIRST_EVENT + 30 * DAY, 30 * DAY, FIRST_EVENT)
    # ... and one event a microsecond before the earliest window start makes it moot.
    assert source_start_in(events, "event_ts", FIRST_EVENT + US, until) is None
    # A source with no event before the last snapshot: every snapshot warms up.
    late = events.where("event_ts >= timestamp'2026-11-01'")
    assert source_start_in(late, "event_ts", FIRST_EVENT, until) == until

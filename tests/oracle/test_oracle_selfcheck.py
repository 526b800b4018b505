"""The oracle itself, on tiny hand-computed cases (window edges, dedup, last, filters)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from feature_jobs.definitions import DerivedColumn, Feature, FeatureView
from features import merchant_transaction_stats, user_risk_signals, user_transaction_stats
from tests.oracle.snapshot_oracle import MissingTranslation, compute

C = datetime(2024, 3, 11, tzinfo=UTC)  # snapshot of 2024-03-10
DAY = timedelta(days=1)
US = timedelta(microseconds=1)


def tx(
    tid: str, user: int, ts: datetime, *, ingested: datetime | None = None, **values: Any
) -> dict[str, Any]:
    """One delivered transaction row; unspecified columns take plain values."""
    row = {
        "transaction_id": tid,
        "user_id": user,
        "merchant_id": 1,
        "amount": 10.0,
        "currency": "EUR",
        "country": "DE",
        "channel": "pos",
        "status": "approved",
        "event_ts": ts,
        "ingested_ts": ingested or ts + timedelta(minutes=1),
    }
    row.update(values)
    return row


def raw(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for column in ("event_ts", "ingested_ts"):
        frame[column] = frame[column].astype("datetime64[us, UTC]")
    return frame


def by_key(frame: pd.DataFrame, key: str) -> dict[Any, dict[str, Any]]:
    """Rows by entity key, NULLs as None."""
    plain = frame.astype(object).where(frame.notna(), None)
    return {row[key]: row for row in plain.to_dict("records")}


def test_window_edges_at_c_excluded_at_c_minus_w_included() -> None:
    events = raw(
        tx("t0", 1, C, amount=1000.0, merchant_id=1, country="US"),  # at C: excluded
        tx("t1", 1, C - DAY, amount=1.0, merchant_id=2, country="FR"),  # first instant of 1d
        tx("t2", 1, C - DAY - US, amount=2.0, merchant_id=3),  # just before 1d
        tx("t3", 1, C - 7 * DAY, amount=4.0, merchant_id=4),  # first instant of 7d
        tx("t4", 1, C - 30 * DAY, amount=8.0, merchant_id=5),  # first instant of 30d
        tx("t5", 1, C - 30 * DAY - US, amount=16.0, merchant_id=6),  # before every window
        tx("t6", 2, C, amount=5.0),  # user 2's only event is at C
        tx("t7", 3, C - 30 * DAY - US, amount=5.0),  # user 3's only event is too old
    )
    out = compute(user_transaction_stats, events, C)
    assert list(out.columns) == ["user_id", *(f.name for f in user_transaction_stats.features)]
    assert out["user_id"].tolist() == [1]  # users 2 and 3 have no event in [C-30d, C)
    row = by_key(out, "user_id")[1]
    assert row["txn_count_1d"] == 1
    assert row["txn_count_7d"] == 3
    assert row["amount_sum_7d"] == 7.0
    assert row["amount_avg_30d"] == 3.75
    assert row["amount_max_30d"] == 8.0
    assert row["distinct_merchants_30d"] == 4
    assert row["last_country"] == "FR"
    assert str(out["txn_count_1d"].dtype) == "Int64"
    assert str(out["amount_sum_7d"].dtype) == "Float64"


def test_duplicate_counts_once_and_latest_delivery_wins() -> None:
    t = C - timedelta(hours=5)
    events = raw(
        tx("a", 1, t, amount=3.0, ingested=t + timedelta(minutes=1)),
        tx("a", 1, t, amount=3.0, ingested=t + timedelta(hours=20)),
        # Delivered declined, then corrected to approved: the later delivery counts.
        tx("b", 1, t, amount=5.0, status="declined", ingested=t + timedelta(minutes=2)),
        tx("b", 1, t, amount=5.0, status="approved", ingested=t + timedelta(minutes=9)),
        # Delivered approved, then declined: it drops out of an approved-only view.
        tx("c", 1, t, amount=7.0, status="declined", ingested=t + 3 * DAY),
        tx("c", 1, t, amount=7.0, status="approved", ingested=t + timedelta(minutes=3)),
    )
    row = by_key(compute(user_transaction_stats, events, C), "user_id")[1]
    assert row["txn_count_1d"] == 2
    assert row["amount_sum_7d"] == 8.0


def test_last_breaks_equal_times_by_greatest_transaction_id() -> None:
    tie = C - timedelta(hours=1)
    rows = [
        tx("tx_a", 1, tie, country="DE"),
        tx("tx_b", 1, tie, country="FR"),
        tx("tx_z", 1, tie - US, country="GB"),  # greatest id, but earlier
    ]
    for ordered in (rows, rows[::-1]):
        row = by_key(compute(user_transaction_stats, raw(*ordered), C), "user_id")[1]
        assert row["last_country"] == "FR"


def test_present_entity_with_empty_windows_gets_zero_or_null() -> None:
    events = raw(tx("a", 7, C - 10 * DAY, amount=12.5, country="NL", channel="online"))
    row = by_key(compute(user_transaction_stats, events, C), "user_id")[7]
    assert row["txn_count_1d"] == 0
    assert row["txn_count_7d"] == 0
    assert row["amount_sum_7d"] is None  # the declared default 0.0 is the readers' business
    assert row["amount_avg_30d"] == 12.5
    assert row["last_country"] == "NL"
    merchant = by_key(compute(merchant_transaction_stats, events, C), "merchant_id")[1]
    assert merchant["txn_count_7d"] == 0
    assert merchant["amount_avg_7d"] is None
    assert merchant["last_channel"] is None  # 7d window is empty
    assert merchant["min_amount_30d"] == 12.5
    assert merchant["unique_users_30d"] == 1


def test_view_filter_decides_presence() -> None:
    events = raw(
        tx("a", 4, C - timedelta(hours=3), status="declined"),
        tx("b", 4, C - 3 * DAY, status="declined"),
    )
    assert compute(user_transaction_stats, events, C).empty
    row = by_key(compute(user_risk_signals, events, C), "user_id")[4]
    assert row["declined_count_7d"] == 2


def test_risk_signals_derived_columns_filters_and_expression() -> None:
    d = C - DAY  # 00:00 of the logical date
    six = d + timedelta(hours=6)
    online = {"amount": 100.0, "channel": "online"}
    events = raw(
        tx("e1", 1, d, amount=0.125),  # night (00:00); 12.5 cents round half up to 13
        tx("e2", 1, six - US, currency="USD", **online),  # night, 92 EUR
        tx("e3", 1, six, currency="GBP", status="declined", **online),  # day, 117 EUR
        tx("e4", 1, d + timedelta(hours=12), amount=500.0),  # exactly 500 EUR: not > 500
        tx("e5", 1, d - timedelta(hours=12), amount=600.0),  # large, before the 1d window
        tx("e6", 2, d + timedelta(hours=9), amount=1.005),  # 100.49999999999999 cents
    )
    rows = by_key(compute(user_risk_signals, events, C), "user_id")
    assert rows[1]["night_txn_count_7d"] == 2
    assert rows[1]["declined_count_7d"] == 1
    assert rows[1]["online_amount_eur_sum_1d"] == pytest.approx(100.0 * 0.92 + 100.0 * 1.17)
    assert rows[1]["min_amount_7d"] == 0.125
    assert rows[1]["large_txn_count_30d"] == 1
    assert rows[1]["max_amount_cents_1d"] == 50000
    assert rows[2]["max_amount_cents_1d"] == 100
    assert rows[2]["online_amount_eur_sum_1d"] is None
    only_small = by_key(compute(user_risk_signals, raw(tx("e1", 1, d, amount=0.125)), C), "user_id")
    assert only_small[1]["max_amount_cents_1d"] == 13  # Python's round(12.5) would give 12


def test_non_utc_offsets_are_the_same_instants() -> None:
    utc = raw(tx("a", 1, C - US), tx("b", 1, C))
    berlin = utc.copy()
    berlin["event_ts"] = berlin["event_ts"].dt.tz_convert("Europe/Berlin")
    expected = compute(user_transaction_stats, utc, C)
    pd.testing.assert_frame_equal(compute(user_transaction_stats, berlin, C), expected)
    assert expected["txn_count_1d"].tolist() == [1]


def test_naive_timestamps_and_naive_feature_ts_are_refused() -> None:
    events = raw(tx("a", 1, C - US))
    naive = events.copy()
    naive["event_ts"] = naive["event_ts"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="naive"):
        compute(user_transaction_stats, naive, C)
    with pytest.raises(ValueError, match="naive"):
        compute(user_transaction_stats, events, C.replace(tzinfo=None))


@pytest.mark.parametrize(
    "changed",
    [
        dataclasses.replace(user_transaction_stats, filter="status <> 'declined'"),
        dataclasses.replace(user_transaction_stats, filter=None),
        dataclasses.replace(
            user_transaction_stats,
            derived_columns=[
                DerivedColumn(name="cents", expression="amount * 100", dtype="double")
            ],
        ),
        dataclasses.replace(
            user_transaction_stats,
            features=[Feature(name="n", function="count", window="1d", filter="amount > 5")],
        ),
        dataclasses.replace(
            user_risk_signals,
            features=[
                Feature(
                    name="max_amount_cents_1d",
                    function="max",
                    expression="CAST(floor(amount * 100) AS BIGINT)",
                    dtype="long",
                    window="1d",
                )
            ],
        ),
    ],
    ids=["changed-filter", "removed-filter", "new-derived", "new-feature-filter", "changed-expr"],
)
def test_an_expression_without_its_translation_is_refused(changed: FeatureView) -> None:
    with pytest.raises(MissingTranslation, match=changed.name):
        compute(changed, raw(tx("a", 1, C - US)), C)


def test_whitespace_differences_are_not_changes() -> None:
    spaced = dataclasses.replace(user_transaction_stats, filter="status  =\n 'approved'")
    assert compute(spaced, raw(tx("a", 1, C - US)), C)["txn_count_1d"].tolist() == [1]

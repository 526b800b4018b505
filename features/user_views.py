"""Feature views about users."""

from feature_jobs.definitions import DerivedColumn, Feature, FeatureView
from features.entities import user
from features.sources import transactions

user_transaction_stats = FeatureView(
    name="user_transaction_stats",
    entity=user,
    source=transactions,
    owner="fraud-ml@example.com",
    description="Spending volume and habits of each card holder.",
    cadence="daily",
    max_age="2d",
    on_stale="default",
    filter="status = 'approved'",
    features=[
        Feature(name="txn_count_1d", function="count", window="1d"),
        Feature(name="txn_count_7d", function="count", window="7d"),
        Feature(name="amount_sum_7d", function="sum", column="amount", window="7d", default=0.0),
        Feature(name="amount_avg_30d", function="avg", column="amount", window="30d"),
        Feature(name="amount_max_30d", function="max", column="amount", window="30d"),
        Feature(
            name="distinct_merchants_30d",
            function="count_distinct",
            column="merchant_id",
            window="30d",
        ),
        Feature(name="last_country", function="last", column="country", window="30d", default="??"),
    ],
    tags={"domain": "payments", "pii": "false"},
)

user_risk_signals = FeatureView(
    name="user_risk_signals",
    entity=user,
    source=transactions,
    owner="fraud-ml@example.com",
    description="Behaviour that often precedes fraud: night-time, declines, online bursts.",
    cadence="daily",
    max_age="1d",
    on_stale="reject",
    derived_columns=[
        DerivedColumn(name="is_night", expression="hour(event_ts) < 6", dtype="boolean"),
        DerivedColumn(
            name="amount_eur",
            expression="amount * CASE currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 "
            "ELSE 1.0 END",
            dtype="double",
        ),
    ],
    features=[
        Feature(name="night_txn_count_7d", function="count", window="7d", filter="is_night"),
        Feature(
            name="declined_count_7d", function="count", window="7d", filter="status = 'declined'"
        ),
        Feature(
            name="online_amount_eur_sum_1d",
            function="sum",
            column="amount_eur",
            window="1d",
            filter="channel = 'online'",
            default=0.0,
        ),
        Feature(name="min_amount_7d", function="min", column="amount", window="7d"),
        Feature(
            name="large_txn_count_30d",
            function="count",
            window="30d",
            filter="amount_eur > 500",
        ),
        Feature(
            name="max_amount_cents_1d",
            function="max",
            expression="CAST(round(amount * 100) AS BIGINT)",
            dtype="long",
            window="1d",
        ),
    ],
    tags={"domain": "payments"},
    # Sparse signals (1-day windows, night-time events) swing in null rate from day to day,
    # most of all while the 30-day windows warm up: warn on such swings, do not block.
    checks={"null_rate_jump": {"blocking": False}},
)

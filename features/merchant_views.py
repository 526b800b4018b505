"""Feature views about merchants."""

from feature_jobs.definitions import Feature, FeatureView
from features.entities import merchant
from features.sources import transactions

merchant_transaction_stats = FeatureView(
    name="merchant_transaction_stats",
    entity=merchant,
    source=transactions,
    owner="merchant-risk@example.com",
    description="Volume, ticket size and customer base of each merchant.",
    cadence="daily",
    max_age="3d",
    on_stale="serve",
    filter="status = 'approved'",
    features=[
        Feature(name="txn_count_1d", function="count", window="1d"),
        Feature(name="txn_count_7d", function="count", window="7d"),
        Feature(name="amount_sum_1d", function="sum", column="amount", window="1d", default=0.0),
        Feature(name="amount_avg_7d", function="avg", column="amount", window="7d"),
        Feature(name="min_amount_30d", function="min", column="amount", window="30d"),
        Feature(name="unique_users_30d", function="count_distinct", column="user_id", window="30d"),
        Feature(name="last_channel", function="last", column="channel", window="7d"),
    ],
    tags={"domain": "payments"},
)

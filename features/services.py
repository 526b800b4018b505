"""Feature services: the feature lists models consume, for training and for serving."""

from feature_jobs.definitions import FeatureService

fraud_model_v1 = FeatureService(
    name="fraud_model_v1",
    description="Chargeback model: user habits, user risk signals and merchant profile.",
    owner="fraud-ml@example.com",
    features=[
        "user_transaction_stats:txn_count_1d",
        "user_transaction_stats:txn_count_7d",
        "user_transaction_stats:amount_sum_7d",
        "user_transaction_stats:amount_avg_30d",
        "user_transaction_stats:distinct_merchants_30d",
        "user_transaction_stats:last_country",
        "user_risk_signals:night_txn_count_7d",
        "user_risk_signals:declined_count_7d",
        "user_risk_signals:online_amount_eur_sum_1d",
        "merchant_transaction_stats:txn_count_7d",
        "merchant_transaction_stats:amount_avg_7d",
        "merchant_transaction_stats:unique_users_30d",
    ],
)

merchant_risk_v1 = FeatureService(
    name="merchant_risk_v1",
    description="Merchant monitoring dashboard model.",
    owner="merchant-risk@example.com",
    features=[
        "merchant_transaction_stats:txn_count_1d",
        "merchant_transaction_stats:amount_sum_1d",
        "merchant_transaction_stats:min_amount_30d",
        "merchant_transaction_stats:last_channel",
    ],
)

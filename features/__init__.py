"""The demo project's feature definitions: card transactions of users at merchants.

The engine loads this module (or the one named by ``SKEWLESS_FEATURES``) and collects
every Entity, Source, FeatureView and FeatureService it exposes.
"""

from features.entities import merchant, user
from features.merchant_views import merchant_transaction_stats
from features.services import fraud_model_v1, merchant_risk_v1
from features.sources import transactions
from features.user_views import user_risk_signals, user_transaction_stats

__all__ = [
    "fraud_model_v1",
    "merchant",
    "merchant_risk_v1",
    "merchant_transaction_stats",
    "transactions",
    "user",
    "user_risk_signals",
    "user_transaction_stats",
]

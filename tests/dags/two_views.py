"""Definitions for the daily DAG test: two of the demo's views, one per entity.

Two views show what the test needs (one group fails, another carries on) with a third
fewer Spark jobs than the whole demo; the DAG builds its groups from whatever module
``SKEWLESS_FEATURES`` names, as a team pointing skewless at its own definitions would.
"""

from features.entities import merchant, user
from features.merchant_views import merchant_transaction_stats
from features.sources import transactions
from features.user_views import user_transaction_stats

__all__ = [
    "merchant",
    "merchant_transaction_stats",
    "transactions",
    "user",
    "user_transaction_stats",
]

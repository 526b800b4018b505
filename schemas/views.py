"""Domain rules of the feature views' snapshots, written by hand.

The structural part (keys, types, uniqueness, counts >= 0, source ranges) is derived
from the definitions; what is here is what only a person knowing the domain can say.
Cross-column rules are Spark SQL conditions that hold for every good row.
"""

from __future__ import annotations

import pandera.pyspark as pa
import pyspark.sql.types as T

from feature_jobs.validation import rules
from feature_jobs.validation.rules import Rule
from schemas.sources import CHANNELS, MAX_AMOUNT


class UserTransactionStatsDomain(pa.DataFrameModel):
    """Card holders' spending habits."""

    # Every card holder in a snapshot paid somewhere in the last 30 days.
    distinct_merchants_30d: T.LongType = pa.Field(ge=1)
    last_country: T.StringType = pa.Field(str_matches=r"^[A-Z]{2}$", nullable=True)


class UserRiskSignalsDomain(pa.DataFrameModel):
    """Card holders' risk signals."""

    max_amount_cents_1d: T.LongType = pa.Field(ge=0, le=int(MAX_AMOUNT * 100), nullable=True)
    online_amount_eur_sum_1d: T.DoubleType = pa.Field(ge=0.0, nullable=True)


class MerchantTransactionStatsDomain(pa.DataFrameModel):
    """Merchants' volume and customer base."""

    unique_users_30d: T.LongType = pa.Field(ge=1)
    last_channel: T.StringType = pa.Field(isin=CHANNELS, nullable=True)


#: View name -> its domain model (field constraints).
VIEW_DOMAINS: dict[str, type[pa.DataFrameModel]] = {
    "user_transaction_stats": UserTransactionStatsDomain,
    "user_risk_signals": UserRiskSignalsDomain,
    "merchant_transaction_stats": MerchantTransactionStatsDomain,
}

_DAY_WITHIN_WEEK = "txn_count_1d <= txn_count_7d"

#: View name -> rules across columns.
VIEW_RULES: dict[str, list[Rule]] = {
    "user_transaction_stats": [
        rules.sql("count_1d_le_7d", _DAY_WITHIN_WEEK, ["txn_count_1d", "txn_count_7d"])
    ],
    "merchant_transaction_stats": [
        rules.sql("count_1d_le_7d", _DAY_WITHIN_WEEK, ["txn_count_1d", "txn_count_7d"])
    ],
}

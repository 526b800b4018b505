"""Domain rules of the raw sources, written by hand (structure comes from the definitions).

A model's field constraints are Pandera built-in checks; the engine evaluates them with
the structural rules in one Spark pass. Bounds declared here also bound the features
computed from the column (an ``avg``, ``min``, ``max`` or ``last`` of ``amount`` must lie
in ``amount``'s range).
"""

from __future__ import annotations

import pandera.pyspark as pa
import pyspark.sql.types as T

#: Currencies the card network settles in (the demo's merchants bill in these).
CURRENCIES = ["EUR", "GBP", "USD"]
CHANNELS = ["online", "pos"]
STATUSES = ["approved", "declined"]
#: The largest single card payment the issuer authorises, in the merchant's currency.
MAX_AMOUNT = 100_000.0


class TransactionsDomain(pa.DataFrameModel):
    """Card transactions as the network delivers them."""

    transaction_id: T.StringType = pa.Field(str_length={"min_value": 1, "max_value": 64})
    amount: T.DoubleType = pa.Field(gt=0.0, le=MAX_AMOUNT)
    currency: T.StringType = pa.Field(isin=CURRENCIES)
    country: T.StringType = pa.Field(str_matches=r"^[A-Z]{2}$")
    channel: T.StringType = pa.Field(isin=CHANNELS)
    status: T.StringType = pa.Field(isin=STATUSES)

    class Config:
        name = "transactions"
        strict = False


#: Source name -> its domain model.
SOURCE_DOMAINS: dict[str, type[pa.DataFrameModel]] = {"transactions": TransactionsDomain}

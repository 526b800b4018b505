"""Raw sources of the demo domain (written by ``python -m feature_jobs demo``)."""

from feature_jobs.definitions import Source

transactions = Source(
    name="transactions",
    path="raw/transactions",
    format="parquet",
    schema={
        "transaction_id": "string",
        "user_id": "long",
        "merchant_id": "long",
        "amount": "double",
        "currency": "string",
        "country": "string",
        "channel": "string",
        "status": "string",
        "event_ts": "timestamp",
        "ingested_ts": "timestamp",
    },
    timestamp_column="event_ts",
    ingestion_timestamp_column="ingested_ts",
    # The card network redelivers some transactions; the id makes them one record.
    dedup_key=["transaction_id"],
    description="Card transactions; some arrive days late, some are delivered twice.",
)

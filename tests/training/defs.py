"""Small feature definitions for the training-set tests (loadable as SKEWLESS_FEATURES).

Three views with different entities, cadences, max ages and stale policies:
``shop_daily`` (daily, 2d, default), ``shop_hourly`` (hourly, 3h, serve) and
``pair_daily`` (composite key, daily, 1d, reject). Their offline tables are written by
the tests directly, in the offline layout; the source is never read.
"""

from feature_jobs.definitions import Entity, Feature, FeatureService, FeatureView, Source

shop = Entity(name="shop", join_keys={"shop_id": "long"})
pair = Entity(name="pair", join_keys={"region": "string", "shop_id": "long"})

orders = Source(
    name="orders",
    path="raw/orders",
    schema={
        "order_id": "string",
        "shop_id": "long",
        "region": "string",
        "amount": "double",
        "country": "string",
        "event_ts": "timestamp",
        "ingested_ts": "timestamp",
    },
    timestamp_column="event_ts",
    ingestion_timestamp_column="ingested_ts",
    dedup_key=["order_id"],
)

shop_daily = FeatureView(
    name="shop_daily",
    entity=shop,
    source=orders,
    owner="tests@example.com",
    cadence="daily",
    max_age="2d",
    on_stale="default",
    features=[
        Feature(name="orders_7d", function="count", window="7d"),
        Feature(name="amount_sum_7d", function="sum", column="amount", window="7d", default=0.0),
        Feature(name="amount_max_7d", function="max", column="amount", window="7d"),
        Feature(name="last_country", function="last", column="country", window="7d", default="??"),
    ],
)

shop_hourly = FeatureView(
    name="shop_hourly",
    entity=shop,
    source=orders,
    owner="tests@example.com",
    cadence="hourly",
    max_age="3h",
    on_stale="serve",
    features=[
        Feature(name="orders_1h", function="count", window="1h"),
        Feature(name="amount_avg_6h", function="avg", column="amount", window="6h"),
    ],
)

pair_daily = FeatureView(
    name="pair_daily",
    entity=pair,
    source=orders,
    owner="tests@example.com",
    cadence="daily",
    max_age="1d",
    on_stale="reject",
    features=[
        Feature(name="orders_1d", function="count", window="1d"),
        Feature(name="amount_min_1d", function="min", column="amount", window="1d", default=-1.0),
    ],
)

everything = FeatureService(
    name="everything",
    features=[
        "shop_daily:orders_7d",
        "shop_daily:amount_sum_7d",
        "shop_daily:amount_max_7d",
        "shop_daily:last_country",
        "shop_hourly:orders_1h",
        "shop_hourly:amount_avg_6h",
        "pair_daily:orders_1d",
        "pair_daily:amount_min_1d",
    ],
)

pairs_only = FeatureService(
    name="pairs_only", features=["pair_daily:orders_1d", "pair_daily:amount_min_1d"]
)

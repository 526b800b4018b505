"""Feature definitions the online-store tests publish (independent of the demo ones)."""

from feature_jobs.definitions import (
    Entity,
    Feature,
    FeatureService,
    FeatureView,
    Source,
    build_registry,
)

user = Entity(name="user", join_keys={"user_id": "long"})
pair = Entity(name="pair", join_keys={"left_id": "string", "right_id": "string"})

events = Source(
    name="events",
    path="raw/events",
    schema={
        "user_id": "long",
        "left_id": "string",
        "right_id": "string",
        "amount": "double",
        "country": "string",
        "flagged": "boolean",
        "event_ts": "timestamp",
    },
)

user_stats = FeatureView(
    name="user_stats",
    entity=user,
    source=events,
    owner="tests",
    max_age="2d",
    on_stale="default",
    features=[
        Feature(name="txn_count_7d", function="count", window="7d"),
        Feature(name="amount_sum_7d", function="sum", column="amount", window="7d", default=-1.0),
        Feature(name="last_country", function="last", column="country", window="7d", default="??"),
        Feature(name="any_flagged_7d", function="max", column="flagged", window="7d"),
        Feature(name="last_event_ts", function="last", column="event_ts", window="7d"),
    ],
)


def _two_feature_view(name: str, on_stale: str) -> FeatureView:
    return FeatureView(
        name=name,
        entity=user,
        source=events,
        owner="tests",
        max_age="1d",
        on_stale=on_stale,  # type: ignore[arg-type]
        features=[
            Feature(name="txn_count_7d", function="count", window="7d"),
            Feature(
                name="amount_sum_7d", function="sum", column="amount", window="7d", default=-1.0
            ),
        ],
    )


# Same shape, other staleness policies (the on_stale tests publish all three).
user_stats_reject = _two_feature_view("user_stats_reject", "reject")
user_stats_serve = _two_feature_view("user_stats_serve", "serve")

pair_stats = FeatureView(
    name="pair_stats",
    entity=pair,
    source=events,
    owner="tests",
    max_age="2d",
    features=[Feature(name="pair_amount_7d", function="sum", column="amount", window="7d")],
)

both = FeatureService(
    name="both",
    features=["user_stats:txn_count_7d", "pair_stats:pair_amount_7d", "user_stats:last_country"],
)


user_hourly = FeatureView(
    name="user_hourly",
    entity=user,
    source=events,
    owner="tests",
    cadence="hourly",
    max_age="3h",
    features=[Feature(name="txn_count_6h", function="count", window="6h")],
)

ALL = [user_stats, user_stats_reject, user_stats_serve, pair_stats, user_hourly, both]
REGISTRY = build_registry(ALL)

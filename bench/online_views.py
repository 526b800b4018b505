"""The benchmark's feature view: one entity, 8 numeric features (issue 4's workload)."""

from feature_jobs.definitions import Entity, Feature, FeatureView, Source, build_registry

FEATURES = 8

user = Entity(name="user", join_keys={"user_id": "long"})
events = Source(
    name="bench_events",
    path="raw/bench_events",
    schema={"user_id": "long", "amount": "double", "event_ts": "timestamp"},
)
bench_stats = FeatureView(
    name="bench_stats",
    entity=user,
    source=events,
    owner="bench",
    max_age="2d",
    features=[
        Feature(name=f"f{i}", function="sum", column="amount", window=f"{i + 1}d")
        for i in range(FEATURES)
    ],
)
REGISTRY = build_registry([bench_stats])

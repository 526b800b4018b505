"""Entities of the demo domain."""

from feature_jobs.definitions import Entity

user = Entity(name="user", join_keys={"user_id": "long"}, description="A card holder.")
merchant = Entity(
    name="merchant", join_keys={"merchant_id": "long"}, description="A card acceptor."
)

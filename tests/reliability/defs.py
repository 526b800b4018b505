"""Feature definitions of the reliability suite (``SKEWLESS_FEATURES=tests.reliability.defs``).

Two small views over one transaction source. ``user_stats`` has the batch checks off so
that the online-side guards (shrink, size) can be reached through a real materialize;
``user_guarded`` keeps the default checks and shows the gate catches a collapse first.
"""

from feature_jobs.definitions import Feature, FeatureService
from tests.feature_jobs.tiny_domain import NO_BATCH_CHECKS, tx_source, user_view

tx = tx_source()

user_stats = user_view(
    tx,
    name="user_stats",
    max_age="30d",
    checks=NO_BATCH_CHECKS,
    features=[
        Feature(name="count_7d", function="count", window="7d"),
        Feature(name="sum_7d", function="sum", column="amount", window="7d"),
        Feature(name="last_country_7d", function="last", column="country", window="7d"),
    ],
)

user_guarded = user_view(
    tx,
    name="user_guarded",
    max_age="30d",
    checks={},
    features=[Feature(name="count_7d", function="count", window="7d")],
)

fraud = FeatureService(name="fraud", features=["user_stats:count_7d", "user_stats:sum_7d"])

"""The definitions API: pure Python, no Spark. ``features/`` is written with it.

Example::

    from feature_jobs.definitions import Entity, Feature, FeatureView, Source

    user = Entity(name="user", join_keys={"user_id": "long"})
    ...
"""

from feature_jobs.definitions.entity import Entity
from feature_jobs.definitions.feature import DerivedColumn, Feature
from feature_jobs.definitions.feature_view import FeatureView
from feature_jobs.definitions.registry import Registry, build_registry, load_registry
from feature_jobs.definitions.service import FeatureRef, FeatureService
from feature_jobs.definitions.source import Source

__all__ = [
    "DerivedColumn",
    "Entity",
    "Feature",
    "FeatureRef",
    "FeatureService",
    "FeatureView",
    "Registry",
    "Source",
    "build_registry",
    "load_registry",
]

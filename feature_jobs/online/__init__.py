"""The online store: atomic publishing of Delta snapshots to Redis, and serving reads.

Public entry points::

    from feature_jobs.online import FeatureStore  # imported lazily
    from feature_jobs.online.sync import sync
    from feature_jobs.online.check import check

- ``sync(spark, settings, view, day)``: publish the snapshot of a view and date, atomically.
- ``FeatureStore(settings).get_online_features(features, entity_rows)``: serving reads.
- ``check(spark, settings, view, day)``: compare what Redis serves with Delta.

Modules: ``keys`` (key layout, entity encoding), ``codec`` (value encoding), ``scripts``
(Lua), ``publish`` (register / write / go-live / retire), ``writer`` (executor side),
``connection`` and ``embedded``. The Delta side (the snapshot a sync reads, the sync log
it appends to) is :mod:`feature_jobs.offline`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "FeatureStore": "feature_jobs.online.store",
    "OnlineResponse": "feature_jobs.online.response",
    "SyncResult": "feature_jobs.online.sync",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'feature_jobs.online' has no attribute {name!r}")
    return getattr(import_module(module), name)

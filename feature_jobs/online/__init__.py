"""The online store: atomic publishing of Delta snapshots to Redis, and serving reads.

Public entry points::

    from feature_jobs.online import FeatureStore  # imported lazily
    from feature_jobs.online.sync import sync
    from feature_jobs.online.check import check

- ``sync(spark, settings, view, day)``: publish the snapshot of a view and date, atomically.
- ``FeatureStore(settings).get_online_features(features, entity_rows)``: serving reads.
- ``check(spark, settings, view, day)``: compare what Redis serves with Delta.

Modules:

- ``connection``: ``REDIS_URL`` forms, connecting, one-line errors, password redaction, the
  ACL roles, and the serving link that follows a restarted embedded server.
- ``embedded``: the embedded redis-server process used when ``REDIS_URL`` is unset.
- ``keys``: the key layout, the entity-key encoding, and the key and value size limits.
- ``codec``: the encoding of feature values (JSON rows, fixed-width binary rows).
- ``publish``: register / go-live / retire with their Lua scripts, the shrink rule.
- ``writer``: the executors' side of a sync, with the hand-packed RESP writes.
- ``sync``: the sync job and its failure alert.
- ``check``: compare what Redis serves with Delta.
- ``store``: the read SDK and its one-round-trip READ script.
- ``response``: the response type of a read.

The Delta side (the snapshot a sync reads, the sync log it appends to) is
:mod:`feature_jobs.offline`.
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

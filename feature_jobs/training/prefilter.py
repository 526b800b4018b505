"""Keeping only the offline rows a small spine can match, before they are shuffled.

A spine row matches at most one offline row: its entity's row in the snapshot the as-of
lookup chose. A spine of a million rows over 60 daily snapshots of 100,000 entities needs
about 0.9M of the 6M offline rows, yet without a filter all 6M are shuffled to the join.
So, for a small spine, the offline scan keeps only rows whose 64-bit hash of (keys,
snapshot time) is among the spine rows' hashes, through a broadcast left-semi join, and
only those are shuffled. The exact equi-join follows, so a hash collision can only let a
row through, never drop one.

Only for small spines: the broadcast is built from the spine before the offline scan can
start and holds one hash per spine row, so it pays on small and medium spines and costs
time and driver memory on large ones (figures in bench/README.md). And only for a single
view: a later view's filter is built from the spine as joined to the views before it, so
it runs those joins once more - the demo's three-view training set was slower with the
filters than without.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from feature_jobs.disk import size_on_disk
from feature_jobs.training.hashing import qcol

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: Spines up to this size on disk (about a million rows of key, time and label) are
#: small enough for the pre-filter to pay.
PREFILTER_MAX_SPINE_BYTES = 16 * 1024 * 1024

_WANTED = "__skewless_wanted_pair"


def prefilter_pays(spine: Path, views: int) -> bool:
    """Whether a join of ``views`` views to the spine at ``spine`` gains from the filter."""
    return views == 1 and size_on_disk(spine) <= PREFILTER_MAX_SPINE_BYTES


def matchable_rows(
    offline: DataFrame,
    offline_keys: list[str],
    offline_time: str,
    spine: DataFrame,
    spine_keys: list[str],
    spine_time: str,
) -> DataFrame:
    """The rows of ``offline`` whose (keys, time) pair some row of ``spine`` has.

    Args:
        offline: the join's right side; ``offline_keys`` and ``offline_time`` name its
            entity keys and snapshot time.
        spine: the located spine; ``spine_keys`` pair up with ``offline_keys``, and
            ``spine_time`` is the chosen snapshot time (null rows match nothing).

    Returns:
        A superset of the rows the equi-join on those columns would match; ``offline``
        itself when a key's type differs between the sides (equal values would hash
        differently).
    """
    from pyspark.sql import functions as F

    offline_types = [offline.schema[name].dataType for name in (*offline_keys, offline_time)]
    spine_types = [spine.schema[name].dataType for name in (*spine_keys, spine_time)]
    if offline_types != spine_types:
        return offline
    wanted = spine.where(qcol(spine_time).isNotNull()).select(
        F.xxhash64(*[qcol(c) for c in (*spine_keys, spine_time)]).alias(_WANTED)
    )
    pair = F.xxhash64(*[qcol(c) for c in (*offline_keys, offline_time)])
    return offline.join(F.broadcast(wanted), pair == F.col(_WANTED), "left_semi")

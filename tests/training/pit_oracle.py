"""Brute-force oracle of the training join, in plain Python, written apart from the engine.

It reads the documented rule (README, "Training sets") literally: for a spine row
(keys, ts), scan every snapshot of the view, keep those with feature_ts <= ts, take the
latest; then STALE if older than max_age, MISSING if the entity has no row in it, with
defaults by on_stale. It does not import the engine's serving rule, so a mistake there
cannot hide here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Keys = tuple[Any, ...]
Snapshot = dict[Keys, dict[str, Any]]


@dataclass
class OracleView:
    """A view as the oracle sees it: parameters and every snapshot's rows."""

    name: str
    keys: tuple[str, ...]
    defaults: dict[str, Any]  # feature -> value served when defaulted (None if none)
    max_age: timedelta
    on_stale: str
    snapshots: dict[datetime, Snapshot] = field(default_factory=dict)


@dataclass(frozen=True)
class Expected:
    """What one spine row must get from one view."""

    status: str
    feature_ts: datetime | None
    values: dict[str, Any]


def lookup(view: OracleView, keys: Keys, ts: datetime, features: list[str]) -> Expected:
    """Event-time mode: the latest snapshot at or before ts, by scanning them all."""
    latest = None
    for feature_ts in view.snapshots:
        if feature_ts <= ts and (latest is None or feature_ts > latest):
            latest = feature_ts
    if latest is None:
        return Expected("MISSING", None, {f: view.defaults[f] for f in features})
    return judge(view, view.snapshots[latest].get(keys), latest, ts, features)


def judge(
    view: OracleView,
    row: dict[str, Any] | None,
    feature_ts: datetime,
    ts: datetime,
    features: list[str],
) -> Expected:
    """Given the applicable snapshot's row for the entity (or None), the served result."""
    defaults = {f: view.defaults[f] for f in features}
    if ts - feature_ts > view.max_age:
        if view.on_stale == "reject":
            return Expected("STALE", feature_ts, dict.fromkeys(features))
        if view.on_stale == "serve" and row is not None:
            return Expected("STALE", feature_ts, _with_defaults(row, defaults))
        return Expected("STALE", feature_ts, defaults)
    if row is None:
        return Expected("MISSING", feature_ts, defaults)
    return Expected("PRESENT", feature_ts, _with_defaults(row, defaults))


@dataclass(frozen=True)
class OraclePublication:
    """A publish: this snapshot, as it was at that Delta version, live from live_at."""

    live_at: datetime
    feature_ts: datetime
    rows: Snapshot  # the snapshot's rows at the published Delta version


def lookup_as_known(
    view: OracleView, pubs: list[OraclePublication], keys: Keys, ts: datetime, features: list[str]
) -> Expected:
    """As-known mode: the publication live at ts (latest live_at <= ts), aged as served."""
    live = None
    for pub in pubs:
        if pub.live_at <= ts and (live is None or pub.live_at >= live.live_at):
            live = pub
    if live is None:
        return Expected("MISSING", None, {f: view.defaults[f] for f in features})
    return judge(view, live.rows.get(keys), live.feature_ts, ts, features)


def _with_defaults(row: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {f: (defaults[f] if row.get(f) is None else row[f]) for f in defaults}

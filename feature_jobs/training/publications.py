"""Publications: one publish of a snapshot to the online store, as the sync log records it.

As-known mode replays them: a publication is live from its ``live_at`` until the next
one's. Both training engines read the same sync-log rows and order them here, so they
number (``seq``) and break ties between publications identically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Publication:
    """One publish of a snapshot to the online store, from the sync log."""

    seq: int
    feature_ts: datetime
    snapshot_date: date
    delta_version: int
    live_at: datetime
    definition_version: str
    run_id: str

    def to_json(self) -> dict[str, Any]:
        """For the manifest."""
        return {
            "seq": self.seq,
            "feature_ts": self.feature_ts.isoformat(),
            "snapshot_date": self.snapshot_date.isoformat(),
            "delta_version": self.delta_version,
            "live_at": self.live_at.isoformat(),
            "definition_version": self.definition_version,
            "run_id": self.run_id,
        }

    @property
    def live_us(self) -> int:
        """Go-live time in epoch microseconds."""
        return micros(self.live_at)

    @property
    def feature_us(self) -> int:
        """The published snapshot's time in epoch microseconds."""
        return micros(self.feature_ts)


class LoggedPublish(NamedTuple):
    """A sync-log row of one view, times as epoch microseconds (no time zone can shift them)."""

    feature_us: int
    snapshot_date: date
    delta_version: int
    live_us: int
    started_us: int  # 0 when the log has no start time
    definition_version: str
    run_id: str


def order_publications(rows: Iterable[LoggedPublish]) -> list[Publication]:
    """Publications in go-live order (ties: start time, then Delta version, then snapshot)."""
    ordered = sorted(rows, key=lambda r: (r.live_us, r.started_us, r.delta_version, r.feature_us))
    return [
        Publication(
            seq=i,
            feature_ts=from_micros(r.feature_us),
            snapshot_date=r.snapshot_date,
            delta_version=int(r.delta_version),
            live_at=from_micros(r.live_us),
            definition_version=str(r.definition_version),
            run_id=str(r.run_id),
        )
        for i, r in enumerate(ordered)
    ]


def live_at_each_instant(pubs: list[Publication]) -> list[Publication]:
    """One publication per go-live instant: of several live at the same time, the last one.

    The as-of lookup sees only instants; this is its tie rule ("the greatest payload
    wins", and ``seq`` comes first in the payload), stated for engines that need it explicit.
    """
    latest: dict[int, Publication] = {}
    for pub in pubs:
        if pub.live_us not in latest or pub.seq > latest[pub.live_us].seq:
            latest[pub.live_us] = pub
    return [latest[t] for t in sorted(latest)]


def micros(value: datetime) -> int:
    """Epoch microseconds of an aware datetime."""
    return (value - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """The UTC datetime of epoch microseconds."""
    return _EPOCH + timedelta(microseconds=int(value))

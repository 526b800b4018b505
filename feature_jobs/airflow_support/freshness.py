"""Is a day's data live online? The facts the freshness deadline decides on.

The daily DAG's deadline fires when a run has not finished in time, but a run being late
is not the same as online being stale: a manual run of a past interval (or a re-run of a
day that already went live) is "late" the moment it is created while online serves that
day, or a newer one. So before alerting, the callback reads what each view actually
serves (the live snapshot pointer in Redis, read-only) and alerts only for views whose
live snapshot is older than the interval's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from feature_jobs.definitions import FeatureView
from feature_jobs.settings import Settings
from feature_jobs.timeutil import snapshot_times


@dataclass(frozen=True)
class ViewFreshness:
    """What one view serves against the snapshot an interval should have made live.

    Attributes:
        view: the feature view.
        expected_ts: ``feature_ts`` of the interval's (last) snapshot.
        live_ts: ``feature_ts`` of the live snapshot, None before the first publish.
        live_date: logical date of the live snapshot, None before the first publish.
    """

    view: str
    expected_ts: datetime
    live_ts: datetime | None
    live_date: date | None

    @property
    def is_live(self) -> bool:
        """The interval's snapshot, or a newer one, is served."""
        return self.live_ts is not None and self.live_ts >= self.expected_ts

    def describe(self) -> str:
        """``view: 2026-03-25 (feature_ts 2026-03-26T00:00:00+00:00)`` or ``view: nothing``."""
        if self.live_ts is None or self.live_date is None:
            return f"{self.view}: nothing"
        return f"{self.view}: {self.live_date} (feature_ts {self.live_ts.isoformat()})"


def interval_snapshot_ts(view: FeatureView, day: date) -> datetime:
    """``feature_ts`` of the last snapshot the daily run of ``day`` publishes for ``view``.

    The run materializes logical date ``day`` (its data interval's start); for a daily
    view that is one snapshot at ``day + 1`` 00:00 UTC, for an hourly view the last of
    its 24 is at the same instant.
    """
    return snapshot_times(day, view.cadence_delta)[-1]


def live_freshness(
    settings: Settings, views: Iterable[FeatureView], day: date
) -> list[ViewFreshness]:
    """Read each view's live snapshot pointer (read-only) and compare it with ``day``'s.

    Raises:
        OnlineStoreError: Redis cannot be reached or refuses the credentials.
    """
    from feature_jobs.online.connection import connect, online_url, redis_errors
    from feature_jobs.online.publish import read_live

    url = online_url(settings)
    result = []
    with redis_errors(url):
        client = connect(url)
        try:
            for view in sorted(views, key=lambda v: v.name):
                live = read_live(client, settings.project, view.name)
                result.append(
                    ViewFreshness(
                        view=view.name,
                        expected_ts=interval_snapshot_ts(view, day),
                        live_ts=live.meta.feature_ts if live else None,
                        live_date=live.meta.snapshot_date if live else None,
                    )
                )
        finally:
            client.close()
    return result

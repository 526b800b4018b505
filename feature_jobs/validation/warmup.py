"""Warm-up: which snapshots describe full windows, so that drift can be judged on them.

A snapshot at ``C`` holds every entity with an event in ``[C - L, C)``, L being the view's
longest window, and each feature aggregates its own window ``[C - W, C)`` (DESIGN.md 2).
While the source's history is shorter than L, the population and every feature's
distribution grow day after day (the 1-day counts of entities seen only in the 30-day
window are zeros, the 30-day averages cover fewer days): comparing such a snapshot with the
day before measures the warm-up, not a drift. So a snapshot whose population window starts
before the source's first event is *warming up*: its drift and population checks are
skipped (and reported as skipped), and it is no baseline for later snapshots. Its
structural and domain rules (keys, types, ranges) run as on any day.

The window ``[C - L, C)`` is full when ``C - L >= first event``: a window that starts
exactly at the first event holds all of its data; one that starts a microsecond earlier
does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView
from feature_jobs.definitions.types import format_duration
from feature_jobs.settings import Settings
from feature_jobs.sources import read_source
from feature_jobs.validation.profile import collected_utc

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def window_is_full(feature_ts: datetime, window: timedelta, source_start: datetime | None) -> bool:
    """Whether ``[feature_ts - window, feature_ts)`` starts at or after ``source_start``.

    ``source_start`` is the time before which the source holds no event; None means it has
    events before every window in question (or is unknown): the window counts as full.
    """
    return source_start is None or feature_ts - window >= source_start


def warm_up_reason(
    view: FeatureView, feature_ts: datetime, source_start: datetime | None
) -> str | None:
    """Why the snapshot at ``feature_ts`` is warming up, or None when its windows are full."""
    if window_is_full(feature_ts, view.longest_window, source_start):
        return None
    assert source_start is not None
    window = format_duration(view.longest_window)
    return (
        f"warming up: the snapshot's {window} window starts before the first event of "
        f"source {view.source.name} ({_iso(source_start)}); structural checks ran"
    )


def find_source_start(
    spark: SparkSession, settings: Settings, view: FeatureView, times: Sequence[datetime]
) -> datetime | None:
    """The time before which ``view``'s source holds no event, as far as ``times`` care.

    None when the source has an event before the earliest window of ``times`` (every
    window is then full, the usual case of a daily run); otherwise its first event time,
    or the last of ``times`` when it has no event before that (every snapshot is empty).
    """
    events = read_source(spark, settings, view.source)
    return source_start_in(events, view.source.timestamp_column,
                           min(times) - view.longest_window, max(times))  # fmt: skip


def source_start_in(
    events: DataFrame, column: str, horizon: datetime, until: datetime
) -> datetime | None:
    """:func:`find_source_start` over ``events`` (two small Spark jobs at most).

    First one row before ``horizon`` is looked for (Parquet skips the row groups whose
    statistics start later; in a steady daily run one is found at once); only without one
    is the earliest event before ``until`` computed, over the run's own span.
    """
    from pyspark.sql import functions as F

    ts = F.col(column)
    if events.where(ts < F.lit(horizon)).limit(1).count():
        return None
    row = events.where(ts < F.lit(until)).agg(F.min(ts).alias("first")).first()
    first = row["first"] if row is not None else None
    return until if first is None else collected_utc(first)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

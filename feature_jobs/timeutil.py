"""UTC time helpers: logical dates, snapshot times, strict parsing of user input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from feature_jobs.errors import TimeSemanticsError, UnsafeInputError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str, flag: str = "--date") -> date:
    """Parse a ``YYYY-MM-DD`` logical date; anything else is refused with a clear line."""
    if not isinstance(text, str) or not _DATE.match(text):
        raise UnsafeInputError(f"{flag} {text!r} is not a date; write it as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UnsafeInputError(f"{flag} {text!r} is not a calendar date") from None


def date_range(start: date, end: date) -> list[date]:
    """Every date from ``start`` to ``end`` inclusive; an error if end precedes start."""
    if end < start:
        raise UnsafeInputError(f"--end {end} is before --start {start}; swap them")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def day_start(day: date) -> datetime:
    """00:00 UTC of a logical date."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def snapshot_times(day: date, cadence: timedelta) -> list[datetime]:
    """Snapshot times ``C`` a logical date owns: each boundary in ``(D 00:00, D+1 00:00]``.

    A daily view has one, ``D+1 00:00 UTC``; an hourly view has 24, the last of which is
    also ``D+1 00:00 UTC``.
    """
    start = day_start(day)
    steps = int(timedelta(days=1) / cadence)
    return [start + cadence * (i + 1) for i in range(steps)]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a UTC instant (Spark's ``unix_micros``)."""
    return (require_utc(moment, "timestamp") - EPOCH) // timedelta(microseconds=1)


def logical_date(feature_ts: datetime) -> date:
    """The logical date a snapshot time belongs to (the day before a midnight boundary)."""
    return (require_utc(feature_ts, "feature_ts") - timedelta(microseconds=1)).date()


def require_utc(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes instead of guessing their zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise TimeSemanticsError(
            f"{field} {value.isoformat()} has no time zone; give it in UTC (e.g. "
            f"{value.isoformat()}+00:00)"
        )
    return value.astimezone(UTC)


def utc_now() -> datetime:
    """The wall clock, in UTC. Jobs take ``now`` as a parameter; only entry points call this."""
    return datetime.now(UTC)

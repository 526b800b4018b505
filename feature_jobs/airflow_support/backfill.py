"""The backfill DAG's request check and step arguments (no Spark, no Airflow run needed).

The trigger form's schema refuses unknown views and malformed dates, but it cannot see
how the fields relate (an end before the start), the clock (a day that is not over) or
the size of a range, and a run may be triggered through the API with a conf written by
hand. So the DAG's first task checks the whole request again, before any Spark work,
and fails with one line naming the field and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from feature_jobs.airflow_support.daily import RUN_ID
from feature_jobs.definitions import Registry
from feature_jobs.errors import TimeSemanticsError, UnsafeInputError
from feature_jobs.timeutil import day_start, parse_date, require_utc

#: Longest range one run may backfill, in days (a year, leap day included). A longer
#: history is backfilled by several runs, each one a range job per view whose input
#: (the source read over the range plus the longest window) stays a size one can plan for.
MAX_BACKFILL_DAYS = 366

#: The form's dates, as the tasks render them; ``check_request`` has checked exactly these
#: values before any step runs (and refused anything but ``YYYY-MM-DD``).
START = "{{ params.start }}"
END = "{{ params.end }}"

#: The steps of one view, in order: the range, then its newest day.
STEPS = ("materialize", "sync", "check")


@dataclass(frozen=True)
class BackfillRequest:
    """A checked backfill request.

    Attributes:
        views: the views to backfill, sorted, each once.
        start: first logical date of the range.
        end: last logical date of the range (inclusive); its day is over.
    """

    views: tuple[str, ...]
    start: date
    end: date

    @property
    def days(self) -> int:
        """Number of logical dates in the range."""
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{', '.join(self.views)} from {self.start} to {self.end} ({self.days} day(s))"


def check_backfill_request(
    params: Mapping[str, object], registry: Registry, now: datetime
) -> BackfillRequest:
    """Check every field of a request; the first bad one raises with a one-line fix.

    Args:
        params: the run's params (``views``, ``start``, ``end``).
        registry: the definitions the jobs will load.
        now: the wall clock (UTC): ``end`` must be a day that is over.

    Raises:
        UnsafeInputError: no views, an unknown view, a malformed date, an end before the
            start, or a range longer than :data:`MAX_BACKFILL_DAYS`.
        TimeSemanticsError: ``end`` is today or later (its snapshot would see the future).
    """
    views = _views(params.get("views"), registry)
    start = _date(params, "start")
    end = _date(params, "end")
    if end < start:
        raise UnsafeInputError(f"end {end} is before start {start}; set end on or after start")
    # A logical date D is over when its snapshot time D+1 00:00 UTC has passed.
    latest = (require_utc(now, "now") - timedelta(days=1)).date()
    if end > latest:
        snapshot_at = day_start(end) + timedelta(days=1)
        raise TimeSemanticsError(
            f"end {end} is not over yet (its snapshot is at {snapshot_at:%Y-%m-%d %H:%M} UTC); "
            f"set end to {latest} or earlier"
        )
    request = BackfillRequest(views=views, start=start, end=end)
    if request.days > MAX_BACKFILL_DAYS:
        raise UnsafeInputError(
            f"start {start} to end {end} is {request.days} days, more than "
            f"{MAX_BACKFILL_DAYS}; split the range into runs of at most {MAX_BACKFILL_DAYS} days"
        )
    return request


def step_args(step: str, view: str) -> list[str]:
    """``python -m feature_jobs`` arguments of one step of a view's backfill.

    ``materialize`` computes the whole range in one job; ``sync`` and ``check`` work on
    its newest day (sync leaves a newer live snapshot alone, and check then says so).
    """
    if step == "materialize":
        return [step, "--view", view, "--start", START, "--end", END, "--run-id", RUN_ID]
    return [step, "--view", view, "--date", END, "--run-id", RUN_ID]


def step_dates(step: str) -> str:
    """What a step works on, as a template for its failure alert (range or newest day)."""
    return f"{START} to {END}" if step == "materialize" else END


def _views(value: object, registry: Registry) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise UnsafeInputError("views must be a list of view names; pick them in the form")
    if not value:
        raise UnsafeInputError("views is empty; pick at least one view in the form")
    unknown = [v for v in value if not isinstance(v, str) or v not in registry.views]
    if unknown:
        raise UnsafeInputError(
            f"views: {unknown[0]!r} is not a feature view; choose from: "
            f"{', '.join(sorted(registry.views))}"
        )
    return tuple(sorted(set(value)))


def _date(params: Mapping[str, object], field: str) -> date:
    value = params.get(field)
    if value is None or value == "":
        raise UnsafeInputError(f"{field} is missing; pick a date (YYYY-MM-DD) in the form")
    return parse_date(str(value), field)

"""Pieces of the daily DAG that are not wiring: assets, the freshness deadline, arguments."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

from airflow.sdk import Asset
from airflow.sdk.definitions.callback import SyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

from feature_jobs.airflow_support.callbacks import freshness_deadline_missed
from feature_jobs.errors import ConfigError
from feature_jobs.offline import view_table
from feature_jobs.settings import Settings

#: The logical date a run works on: the day its data interval covers, never "now".
RUN_DATE = "{{ data_interval_start | ds }}"
RUN_ID = "{{ run_id }}"
#: Default of SKEWLESS_FRESHNESS_DEADLINE: how long after a day ends its snapshots may
#: take to go live before the freshness alert fires.
DEFAULT_FRESHNESS_DELAY = "6h"
_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def offline_asset(settings: Settings, view: str) -> Asset:
    """The Asset of a view's offline Delta table (the materialize task's outlet).

    The name carries the project: Airflow keeps one active asset per name, so two
    projects (or one moved to a new data root under a new project name) sharing an
    Airflow deployment would otherwise leave one of them with an inactive outlet, and
    its materialize tasks would fail before doing any work.
    """
    path = view_table(settings, view)
    uri = path if "://" in path else f"file://{path}"
    return Asset(name=f"skewless.{settings.project}.offline.{view}", uri=uri, group="skewless")


def step_args(step: str, view: str) -> list[str]:
    """``python -m feature_jobs`` arguments of one step for the run's date."""
    return [step, "--view", view, "--date", RUN_DATE, "--run-id", RUN_ID]


def freshness_delay(env: Mapping[str, str]) -> timedelta:
    """``SKEWLESS_FRESHNESS_DEADLINE`` (``90m``, ``6h``, ``1d``; unset or empty: 6h)."""
    text = (env.get("SKEWLESS_FRESHNESS_DEADLINE") or DEFAULT_FRESHNESS_DELAY).strip()
    match = _DURATION.fullmatch(text)
    if not match or int(match.group(1)) == 0:
        raise ConfigError(
            f"SKEWLESS_FRESHNESS_DEADLINE={text!r} is invalid; write a positive duration "
            "such as 90m, 6h or 1d"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def duration_text(delay: timedelta) -> str:
    """``6h``, ``90m``, ``1d``: a delay the way SKEWLESS_FRESHNESS_DEADLINE writes it."""
    minutes = int(delay.total_seconds()) // 60
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def freshness_deadline(env: Mapping[str, str]) -> DeadlineAlert:
    """Check freshness ``delay`` after the run's data interval ended.

    Airflow 3.3 has no deadline reference for the data interval's end (a custom one
    would have to be registered by a plugin in every Airflow component, or the DAG
    stops deserializing), so the deadline counts from the logical date: a scheduled
    daily run's logical date is the start of its interval, and the deadline is logical
    date + 1 day + delay, exactly ``delay`` after the interval ended. A run that
    finishes earlier removes its deadline. (A manual run with a logical date X covers
    the day before X, so its deadline comes a day later than that; the scheduled run of
    the same interval holds the real one.)

    A missed deadline alerts only if online is behind: the callback reads what each
    view serves, see :func:`~feature_jobs.airflow_support.callbacks.freshness_deadline_missed`.
    """
    delay = freshness_delay(env)
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=timedelta(days=1) + delay,
        callback=SyncCallback(freshness_deadline_missed, kwargs={"delay": duration_text(delay)}),
        name="snapshot freshness",
    )

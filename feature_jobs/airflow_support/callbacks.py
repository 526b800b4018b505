"""Alerts sent by Airflow: a failed step of a view, a failed run, a missed freshness deadline.

The job itself alerts on what it knows best (the validation gate reports which checks
failed on which rows); these callbacks add what only the scheduler knows: which step of
which view failed for which date, and that a day's snapshot is late. They all go through
``feature_jobs.alerts.send_alert``, so the channels are configured in one place.

* :class:`StepFailureNotifier` is a task-level notifier (``on_failure_callback``); it runs
  once a task has failed for good, after its retries.
* :func:`dag_run_failed` is the DAG-level failure callback. It is a plain function: a
  ``BaseNotifier`` at DAG level breaks ``dag.test()`` in Airflow 3.3.
* :func:`freshness_deadline_missed` is the target of the DAG's ``DeadlineAlert``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow.sdk import BaseNotifier

from feature_jobs.errors import SkewlessError, first_line
from feature_jobs.settings import Settings
from feature_jobs.timeutil import require_utc

log = logging.getLogger(__name__)


class StepFailureNotifier(BaseNotifier):
    """Alert that one step (materialize, sync, check) of one feature view failed.

    Args:
        view: the feature view of the task group.
        step: the step the task runs.
        dates: what the step worked on when it is not the run's data interval (a
            template, e.g. a backfill's ``{{ params.start }} to {{ params.end }}``).
    """

    template_fields = ("view", "step", "dates")

    def __init__(self, view: str, step: str, dates: str | None = None) -> None:
        super().__init__()
        self.view = view
        self.step = step
        self.dates = dates

    def notify(self, context: Any) -> None:
        """Send the alert; the data interval (or ``dates``) names the date, the exception
        the reason."""
        day = self.dates or _logical_day(context)
        reason = error_line(context.get("exception"))
        consequence = (
            "nothing was published; online keeps serving the previous snapshot"
            if self.step in ("materialize", "sync")
            else "online values may differ from Delta"
        )
        send(
            kind=f"airflow.{self.step}_failed",
            title=f"{self.step} of {self.view} for {day} failed",
            message=f"{reason}; {consequence}",
            view=self.view,
            details={
                "dag_id": _attr(context.get("dag"), "dag_id"),
                "run_id": context.get("run_id"),
                "task_id": _attr(context.get("ti"), "task_id"),
                # "date" is one logical date (the alert's snapshot_date); a range is not.
                ("dates" if self.dates else "date"): day,
            },
        )


def dag_run_failed(context: Mapping[str, Any]) -> None:
    """DAG-level failure callback: one alert naming the run and why it failed."""
    dag_run = context.get("dag_run")
    send(
        kind="airflow.run_failed",
        title=f"run {_attr(dag_run, 'run_id')} of {_attr(dag_run, 'dag_id')} failed",
        message=str(context.get("reason") or "one or more tasks failed")
        + "; views whose groups succeeded were published",
        view=None,
        details={"dag_id": _attr(dag_run, "dag_id"), "run_id": _attr(dag_run, "run_id")},
    )


def freshness_deadline_missed(context: Mapping[str, Any], delay: str = "") -> None:
    """Deadline callback: alert for the views whose snapshot of the run's interval is not
    live ``delay`` after the interval ended.

    Airflow calls it when the run has not finished by its deadline. That alone does not
    mean online is stale: a manual run of a past interval, or a re-run of a day that went
    live already, is past its deadline the moment it starts. So it reads what each view
    serves and alerts only when some view serves an older snapshot than the interval's
    (or nothing); otherwise it logs at INFO and stays quiet. Backfill runs are skipped:
    what they rebuild is history, not the snapshot online serves today.
    """
    from feature_jobs.airflow_support.freshness import live_freshness
    from feature_jobs.definitions import load_registry

    dag_run = dict(context.get("dag_run") or {})
    deadline = dict(context.get("deadline") or {})
    run_id = dag_run.get("dag_run_id")
    if dag_run.get("run_type") == "backfill":
        log.info("freshness deadline of backfill run %s ignored", run_id)
        return
    start, end = (
        _instant(dag_run.get("data_interval_start")),
        _instant(dag_run.get("data_interval_end")),
    )
    if start is None or end is None:
        log.info("freshness deadline of run %s ignored: it has no data interval", run_id)
        return
    interval = f"[{start.isoformat()}, {end.isoformat()})"
    settings = Settings.from_env()
    views = load_registry(settings.features_module).views.values()
    try:
        served = live_freshness(settings, views, start.date())
    except SkewlessError as exc:
        # Unknown is not fresh: say so rather than stay quiet.
        served, unreadable = [], first_line(str(exc))
    else:
        unreadable = ""
    behind = [view for view in served if not view.is_live]
    if not behind and not unreadable:
        log.info(
            "freshness deadline of run %s passed, but the snapshots of interval %s are live "
            "(or newer ones are): %s; no alert",
            run_id, interval, "; ".join(view.describe() for view in served),
        )  # fmt: skip
        return
    what = (
        f"online could not be read ({unreadable})"
        if unreadable
        else "online serves older snapshots: " + "; ".join(view.describe() for view in behind)
    )
    send(
        kind="airflow.freshness_deadline_missed",
        title=f"snapshots of {start.date()} are not live {delay} after the day ended",
        message=f"{what}. {dag_run.get('dag_id')} run {run_id} of interval {interval} "
        f"has not finished by its deadline {deadline.get('deadline_time')}",
        view=behind[0].view if len(behind) == 1 else None,
        details={
            "dag_id": dag_run.get("dag_id"),
            "run_id": run_id,
            "date": start.date().isoformat(),
            "data_interval": interval,
            "deadline": deadline.get("deadline_time"),
            "behind": ", ".join(view.view for view in behind) or None,
            # One flat key per view: alert details are flat JSON values.
            **{f"live.{v.view}": v.live_ts.isoformat() if v.live_ts else "nothing" for v in served},
        },
    )


def send(
    *, kind: str, title: str, message: str, view: str | None, details: Mapping[str, Any]
) -> None:
    """Send one alert through the configured channels (settings read when it fires)."""
    from feature_jobs.alerts import Alert, send_alert

    settings = Settings.from_env()
    log.warning("alert %s: %s: %s", kind, title, message)
    send_alert(
        settings,
        Alert(
            kind=kind,
            title=title,
            message=message,
            view=view,
            details={k: v for k, v in details.items() if v is not None},
        ),
    )


def error_line(exception: object) -> str:
    """The job's own one-line error from spark-submit's log tail, else the exception."""
    text = str(exception or "").strip()
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("error: "):
            return line[len("error: ") :]
    return first_line(text) or "unknown error"


def _logical_day(context: Any) -> str:
    start = context.get("data_interval_start") or context.get("logical_date")
    return start.date().isoformat() if start is not None else "?"


def _instant(value: object) -> datetime | None:
    """A UTC datetime from the DAG run's JSON (``2026-03-26T00:00:00Z``) or a datetime."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return require_utc(moment, "data interval")


def _attr(obj: object, name: str) -> Any:
    return getattr(obj, name, None) if obj is not None else None

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
from typing import Any

from airflow.sdk import BaseNotifier

from feature_jobs.errors import first_line
from feature_jobs.settings import Settings

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
    """Deadline callback: the day's snapshots have not gone live in time.

    Backfill runs are skipped: their data intervals ended long ago, so every one of them
    would be "late" the moment it is created, and what they rebuild is history, not the
    snapshot online serves today.
    """
    dag_run = dict(context.get("dag_run") or {})
    deadline = dict(context.get("deadline") or {})
    if dag_run.get("run_type") == "backfill":
        log.info("freshness deadline of backfill run %s ignored", dag_run.get("dag_run_id"))
        return
    day = str(dag_run.get("data_interval_start") or dag_run.get("logical_date") or "")[:10]
    send(
        kind="airflow.freshness_deadline_missed",
        title=f"snapshots of {day} are not live yet",
        message=f"{dag_run.get('dag_id')} run {dag_run.get('dag_run_id')} has not finished "
        f"{delay} after its data interval ended (deadline {deadline.get('deadline_time')}); "
        "online is serving older snapshots",
        view=None,
        details={"dag_id": dag_run.get("dag_id"), "run_id": dag_run.get("dag_run_id")},
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


def _attr(obj: object, name: str) -> Any:
    return getattr(obj, name, None) if obj is not None else None

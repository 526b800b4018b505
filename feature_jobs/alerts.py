"""Alerts: one message, several channels, chosen by configuration.

The validation gate, the CLI, the consistency check and Airflow callbacks all build an
:class:`Alert` and call :func:`send_alert`. Channels:

* **log**: always; one line on the ``skewless.alerts`` logger (ERROR for failures,
  WARNING for warnings).
* **JSON lines**: when ``SKEWLESS_ALERT_JSONL`` names a file; one JSON object per alert.
* **webhook**: when ``SKEWLESS_ALERT_WEBHOOK`` is a URL; a Slack-compatible body
  (``text`` + ``blocks`` + a coloured attachment) with the full alert under ``skewless``.
* **email**: when ``SKEWLESS_ALERT_EMAIL`` lists recipients and the code runs under
  Airflow (``AIRFLOW_CTX_DAG_ID`` is set); sent with Airflow's own email backend and
  ``[smtp]`` settings, so there is one SMTP configuration for the whole deployment.

A channel that fails is logged and reported in the returned :class:`Delivery`; it never
raises, so an unreachable webhook cannot hide the failure that caused the alert.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from feature_jobs.alert_format import email_html, slack_body, summary_line
from feature_jobs.settings import Settings

log = logging.getLogger("skewless.alerts")

Severity = Literal["failure", "warning"]
SEVERITIES: tuple[str, ...] = ("failure", "warning")
WEBHOOK_TIMEOUT_S = 10.0
WEBHOOK_ATTEMPTS = 3


@dataclass(frozen=True)
class AlertCheck:
    """One failing (or warning) check named in an alert.

    Attributes:
        check: the check, e.g. ``not_null`` or ``row_count_drop_pct``.
        column: the column it applies to; None for checks on the whole batch.
        failing_rows: rows that fail it; None when the check is about a metric.
        total_rows: rows in the batch.
        detail: the observed value against the threshold, for metric checks.
    """

    check: str
    column: str | None = None
    failing_rows: int | None = None
    total_rows: int | None = None
    detail: str = ""

    def label(self) -> str:
        """``check(column): N/M rows`` or ``check(column): detail``."""
        name = f"{self.check}[{self.column}]" if self.column else self.check
        if self.failing_rows is not None:
            total = f"/{self.total_rows}" if self.total_rows is not None else ""
            count = f"{self.failing_rows}{total} rows"
            return f"{name}: {count}" + (f" ({self.detail})" if self.detail else "")
        return f"{name}: {self.detail}" if self.detail else name


@dataclass(frozen=True, kw_only=True)
class Alert:
    """What happened, where, and where to look.

    Attributes:
        kind: machine-readable type, e.g. ``validation.failed``, ``airflow.sync_failed``.
        title: one human line.
        message: more context (one paragraph at most).
        severity: ``failure`` (something was refused or broke) or ``warning``.
        view: the feature view concerned, if any.
        snapshot_date: the logical date (``YYYY-MM-DD``) concerned, if any.
        run_id: the run that raised it (materialize run id or Airflow run id).
        checks: the failing checks with their counts.
        report_location: where the machine-readable report is (a Delta table and filter).
        details: any further key/value pairs (``run_id`` and ``date`` found here fill the
            fields above when those are unset, as Airflow callbacks pass them).
        project: the project namespace, filled from settings when sent.
        created_at: when the alert was raised (UTC).
    """

    kind: str
    title: str
    message: str = ""
    severity: Severity = "failure"
    view: str | None = None
    snapshot_date: str | None = None
    run_id: str | None = None
    checks: Sequence[AlertCheck] = ()
    report_location: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    project: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"alert severity {self.severity!r}; use 'failure' or 'warning'")
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "details", dict(self.details))
        if isinstance(self.snapshot_date, date):
            object.__setattr__(self, "snapshot_date", self.snapshot_date.isoformat())
        if self.run_id is None and self.details.get("run_id") is not None:
            object.__setattr__(self, "run_id", str(self.details["run_id"]))
        if self.snapshot_date is None and self.details.get("date") is not None:
            object.__setattr__(self, "snapshot_date", str(self.details["date"]))

    def to_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data (the JSON-lines record and webhook ``skewless``)."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["checks"] = [asdict(check) for check in self.checks]
        data["summary"] = summary_line(self)
        data["details"] = {k: _jsonable(v) for k, v in self.details.items()}
        return data


@dataclass(frozen=True)
class Delivery:
    """Which channels took the alert and which failed (with the reason)."""

    delivered: tuple[str, ...]
    failed: Mapping[str, str]


def send_alert(settings: Settings, alert: Alert, *, under_airflow: bool | None = None) -> Delivery:
    """Send ``alert`` through every configured channel; never raises for a channel.

    Args:
        settings: where the channels point (``alert_jsonl``, ``alert_webhook``,
            ``alert_email``) and the project name stamped on the alert.
        alert: what to send.
        under_airflow: force the email channel on or off; by default it is on when the
            process runs as an Airflow task (``AIRFLOW_CTX_DAG_ID`` is set).
    """
    if alert.project is None:
        alert = _with_project(alert, settings.project)
    delivered: list[str] = []
    failed: dict[str, str] = {}
    level = logging.ERROR if alert.severity == "failure" else logging.WARNING
    log.log(level, "ALERT %s", summary_line(alert))
    delivered.append("log")
    channels: list[tuple[str, Any]] = []
    if settings.alert_jsonl is not None:
        channels.append(("jsonl", lambda: _append_jsonl(settings, alert)))
    if settings.alert_webhook:
        channels.append(("webhook", lambda: _post_webhook(settings, alert)))
    if under_airflow is None:
        under_airflow = bool(os.environ.get("AIRFLOW_CTX_DAG_ID"))
    if settings.alert_email and under_airflow:
        channels.append(("email", lambda: _send_email(settings, alert)))
    for name, deliver in channels:
        try:
            deliver()
            delivered.append(name)
        except Exception as exc:  # a broken channel must not hide the alert
            failed[name] = f"{type(exc).__name__}: {exc}"
            log.error("alert channel %s failed: %s", name, failed[name])
    return Delivery(delivered=tuple(delivered), failed=failed)


def _with_project(alert: Alert, project: str) -> Alert:
    from dataclasses import replace

    return replace(alert, project=project)


def _append_jsonl(settings: Settings, alert: Alert) -> None:
    assert settings.alert_jsonl is not None  # checked by the caller
    path = settings.alert_jsonl
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(alert.to_dict(), sort_keys=True, default=str) + "\n"
    # One write on an O_APPEND descriptor: concurrent jobs never interleave within a line.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def _post_webhook(settings: Settings, alert: Alert) -> None:
    assert settings.alert_webhook is not None  # checked by the caller
    url = settings.alert_webhook
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"SKEWLESS_ALERT_WEBHOOK={url!r} is not an http(s) URL")
    body = json.dumps(slack_body(alert), default=str).encode()
    last_error: Exception | None = None
    for attempt in range(WEBHOOK_ATTEMPTS):
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
                if 200 <= response.status < 300:
                    return
                last_error = RuntimeError(f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            last_error = exc
            if exc.code < 500 and exc.code != 429:
                break  # the body or URL is wrong; retrying will not help
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last_error = exc
        time.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"webhook POST failed after retries: {last_error}")


def _send_email(settings: Settings, alert: Alert) -> None:
    from airflow.utils.email import send_email

    send_email(
        to=list(settings.alert_email),
        subject=f"[skewless {alert.severity}] {alert.title}",
        html_content=email_html(alert),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)

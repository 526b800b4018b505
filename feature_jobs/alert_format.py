"""How an alert reads: one log line, a Slack-compatible webhook body, an HTML email."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feature_jobs.alerts import Alert

#: Attachment colours Slack shows beside the message: failures red, warnings amber.
COLORS = {"failure": "#d40e0d", "warning": "#e8a317"}
ICONS = {"failure": ":red_circle:", "warning": ":warning:"}
MAX_CHECKS_SHOWN = 20


def summary_line(alert: Alert) -> str:
    """One line with everything a person needs to triage: what, where, which checks."""
    parts = [f"{alert.severity.upper()} {alert.kind}: {alert.title}"]
    where = [
        f"{name}={value}"
        for name, value in (
            ("project", alert.project),
            ("view", alert.view),
            ("date", alert.snapshot_date),
            ("run_id", alert.run_id),
        )
        if value
    ]
    if where:
        parts.append(" ".join(where))
    if alert.checks:
        parts.append("checks: " + ", ".join(check.label() for check in alert.checks))
    if alert.message:
        parts.append(alert.message)
    if alert.report_location:
        parts.append(f"report: {alert.report_location}")
    return " | ".join(part.replace("\n", " ") for part in parts)


def slack_body(alert: Alert) -> dict[str, Any]:
    """A body Slack's incoming webhooks accept: ``text`` (fallback), ``blocks``, colour.

    The full alert rides along under ``skewless`` for receivers that are not Slack
    (Slack ignores keys it does not know).
    """
    facts = [
        ("Severity", alert.severity.upper()),
        ("View", alert.view or "-"),
        ("Date", alert.snapshot_date or "-"),
        ("Run id", alert.run_id or "-"),
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(alert.title, 150)},
        },
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts],
        },
    ]
    if alert.checks:
        lines = [f"• `{_md(check.label())}`" for check in alert.checks[:MAX_CHECKS_SHOWN]]
        if len(alert.checks) > MAX_CHECKS_SHOWN:
            lines.append(f"… and {len(alert.checks) - MAX_CHECKS_SHOWN} more")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip("*Checks*\n" + "\n".join(lines))},
            }
        )
    if alert.message:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(alert.message)}})
    if alert.report_location:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": _clip(f"Report: `{alert.report_location}`")}
                ],
            }
        )
    return {
        "text": f"{ICONS[alert.severity]} {summary_line(alert)}",
        "blocks": blocks,
        "attachments": [{"color": COLORS[alert.severity], "fallback": alert.title}],
        "skewless": alert.to_dict(),
    }


def email_html(alert: Alert) -> str:
    """A small HTML email body with the same facts as the webhook."""
    rows = "".join(
        f"<tr><th align='left'>{html.escape(name)}</th><td>{html.escape(str(value))}</td></tr>"
        for name, value in (
            ("Severity", alert.severity.upper()),
            ("Kind", alert.kind),
            ("View", alert.view or "-"),
            ("Date", alert.snapshot_date or "-"),
            ("Run id", alert.run_id or "-"),
            ("Report", alert.report_location or "-"),
        )
    )
    checks = "".join(f"<li><code>{html.escape(c.label())}</code></li>" for c in alert.checks)
    message = f"<p>{html.escape(alert.message)}</p>" if alert.message else ""
    return f"<h3>{html.escape(alert.title)}</h3><table>{rows}</table>{message}" + (
        f"<p>Checks:</p><ul>{checks}</ul>" if checks else ""
    )


def _md(text: str) -> str:
    return text.replace("`", "'")


def _clip(text: str, limit: int = 2900) -> str:
    # Slack rejects text objects over 3000 characters; clip rather than lose the alert.
    return text if len(text) <= limit else text[: limit - 1] + "…"

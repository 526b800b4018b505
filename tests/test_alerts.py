"""Alerts reach real receivers: a JSON-lines file, a local HTTP server, a local SMTP server."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from feature_jobs.alerts import Alert, AlertCheck, send_alert
from feature_jobs.settings import Settings
from tests.support.webhook import WebhookReceiver


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A real HTTP server on a free local port recording every POST."""
    with WebhookReceiver() as receiver:
        yield receiver


def _alert(**overrides: Any) -> Alert:
    fields: dict[str, Any] = {
        "kind": "validation.failed",
        "title": "user_transaction_stats 2024-03-01 failed validation",
        "view": "user_transaction_stats",
        "snapshot_date": "2024-03-01",
        "run_id": "manual__x1",
        "checks": [
            AlertCheck("not_null", "user_id", failing_rows=1, total_rows=40),
            AlertCheck("row_count_drop_pct", None, detail="62.5% > 50%"),
        ],
        "report_location": "/w/_skewless/quarantine run_id='manual__x1'",
    }
    fields.update(overrides)
    return Alert(**fields)


def _with(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, **changes)


def test_failure_alert_reaches_jsonl_and_webhook(
    settings: Settings, tmp_path: Path, webhook: WebhookReceiver
) -> None:
    url = webhook.url
    jsonl = tmp_path / "alerts" / "alerts.jsonl"
    conf = _with(settings, alert_jsonl=jsonl, alert_webhook=url)

    delivery = send_alert(conf, _alert())
    send_alert(conf, _alert(severity="warning", kind="validation.warning", checks=[]))

    assert delivery.delivered == ("log", "jsonl", "webhook")
    assert delivery.failed == {}
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["severity"] for r in records] == ["failure", "warning"]
    first = records[0]
    assert first["view"] == "user_transaction_stats"
    assert first["snapshot_date"] == "2024-03-01"
    assert first["run_id"] == "manual__x1"
    assert first["project"] == settings.project
    assert first["checks"][0] == {
        "check": "not_null",
        "column": "user_id",
        "failing_rows": 1,
        "total_rows": 40,
        "detail": "",
    }
    assert first["report_location"].endswith("run_id='manual__x1'")

    assert [r["path"] for r in webhook.requests] == ["/hooks/skewless", "/hooks/skewless"]
    assert webhook.requests[0]["type"] == "application/json"
    failure, warning = webhook.bodies()
    # Slack-compatible: text fallback, blocks, coloured attachment.
    assert failure["text"].startswith(":red_circle: FAILURE validation.failed")
    assert "view=user_transaction_stats date=2024-03-01 run_id=manual__x1" in failure["text"]
    assert "not_null[user_id]: 1/40 rows" in failure["text"]
    assert "row_count_drop_pct: 62.5% > 50%" in failure["text"]
    assert "report: /w/_skewless/quarantine run_id='manual__x1'" in failure["text"]
    assert failure["blocks"][0]["type"] == "header"
    assert failure["attachments"][0]["color"] == "#d40e0d"
    assert warning["text"].startswith(":warning: WARNING")
    assert warning["attachments"][0]["color"] == "#e8a317"
    assert failure["skewless"]["checks"][1]["check"] == "row_count_drop_pct"


def test_log_line_distinguishes_failure_and_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="skewless.alerts"):
        send_alert(settings, _alert())
        send_alert(settings, _alert(severity="warning"))
    levels = [(r.levelname, r.getMessage().split(" ")[1]) for r in caplog.records]
    assert levels == [("ERROR", "FAILURE"), ("WARNING", "WARNING")]
    assert "run_id=manual__x1" in caplog.records[0].getMessage()


def test_broken_webhook_is_reported_not_raised(
    settings: Settings, webhook: WebhookReceiver
) -> None:
    webhook.status = 400
    delivery = send_alert(_with(settings, alert_webhook=webhook.url), _alert())
    assert delivery.delivered == ("log",)
    assert "HTTP Error 400" in delivery.failed["webhook"]
    # A client error is not retried: exactly one POST reached the server.
    assert len(webhook.requests) == 1


def test_airflow_callback_fields_fill_run_and_date(settings: Settings) -> None:
    alert = Alert(
        kind="airflow.sync_failed",
        title="sync of v for 2024-03-01 failed",
        view="v",
        details={"run_id": "scheduled__2024-03-02", "date": "2024-03-01", "dag_id": "d"},
    )
    assert alert.run_id == "scheduled__2024-03-02"
    assert alert.snapshot_date == "2024-03-01"
    with pytest.raises(ValueError, match="severity"):
        Alert(kind="k", title="t", severity="fatal")  # type: ignore[arg-type]


def test_email_goes_through_airflow_smtp_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncore
    import smtpd

    received: list[tuple[str, list[str], bytes]] = []

    class Server(smtpd.SMTPServer):
        def process_message(
            self, peer: Any, mailfrom: str, rcpttos: list[str], data: bytes, **kw: Any
        ) -> None:
            received.append((mailfrom, rcpttos, data))

    server = Server(("127.0.0.1", 0), None, decode_data=False)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    monkeypatch.setenv("AIRFLOW__SMTP__SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AIRFLOW__SMTP__SMTP_PORT", str(port))
    monkeypatch.setenv("AIRFLOW__SMTP__SMTP_STARTTLS", "False")
    monkeypatch.setenv("AIRFLOW__SMTP__SMTP_SSL", "False")
    monkeypatch.setenv("AIRFLOW__SMTP__SMTP_MAIL_FROM", "skewless@example.com")
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}")
    try:
        delivery = send_alert(
            _with(settings, alert_email=("oncall@example.com",)), _alert(), under_airflow=True
        )
    finally:
        server.close()
    assert delivery.failed == {}
    assert delivery.delivered == ("log", "email")
    assert len(received) == 1
    mailfrom, rcpt, data = received[0]
    assert (mailfrom, rcpt) == ("skewless@example.com", ["oncall@example.com"])
    message = message_from_bytes(data)
    assert message["Subject"] == (
        "[skewless failure] user_transaction_stats 2024-03-01 failed validation"
    )
    html = message.get_payload()[0].get_payload(decode=True).decode()
    assert "manual__x1" in html and "not_null[user_id]: 1/40 rows" in html


def test_email_needs_airflow(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID", raising=False)
    delivery = send_alert(_with(settings, alert_email=("oncall@example.com",)), _alert())
    assert delivery.delivered == ("log",)

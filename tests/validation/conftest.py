"""Fixtures of the validation tests: alert receivers wired into the settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from feature_jobs.settings import Settings
from tests.support.webhook import WebhookReceiver


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A real local HTTP server receiving this test's alerts."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def alerting(settings: Settings, tmp_path: Path, webhook: WebhookReceiver) -> Settings:
    """The test's settings with alerts going to a JSON-lines file and the webhook."""
    return dataclasses.replace(
        settings, alert_jsonl=tmp_path / "alerts.jsonl", alert_webhook=webhook.url
    )

"""The gate inside materialize and the CLI: bad data never reaches offline/ (real demo data)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feature_jobs.cli import main
from feature_jobs.demo.bad_data import inject_bad_data
from feature_jobs.demo.generator import generate
from feature_jobs.errors import ValidationFailed
from feature_jobs.materialize import materialize
from feature_jobs.offline import last_commit, quarantine_table, view_table
from feature_jobs.settings import Settings
from features import user_transaction_stats
from tests.support.webhook import WebhookReceiver

END = date(2026, 3, 10)
NOW = datetime(2026, 3, 20, tzinfo=UTC)
VIEW = user_transaction_stats
OUT_OF_RANGE = "in_range(0.0, 100000.0)[amount_max_30d]"


@pytest.fixture
def demo_data(alerting: Settings) -> Settings:
    """Nine days of a small demo domain; the day before END is materialized and valid."""
    generate(alerting.data_root, days=9, end=END, users=25, merchants=5, seed=3)
    return alerting


def _version(spark: Any, settings: Settings) -> int:
    return last_commit(spark, view_table(settings, VIEW.name)).version


def _snapshot_dates(spark: Any, settings: Settings) -> set[date]:
    offline = spark.read.format("delta").load(view_table(settings, VIEW.name))
    return {r[0] for r in offline.select("snapshot_date").distinct().collect()}


def test_materialize_refuses_bad_data_and_writes_nothing(
    spark: Any, demo_data: Settings, webhook: WebhookReceiver
) -> None:
    [good] = materialize(spark, demo_data, VIEW, END - timedelta(days=1), now=NOW)
    assert good.rows > 0
    before = _version(spark, demo_data)
    injected = inject_bad_data(demo_data.data_root, END)
    assert injected.day == END

    with pytest.raises(ValidationFailed) as caught:
        materialize(spark, demo_data, VIEW, END, run_id="run-bad", now=NOW)

    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(f"feature view {VIEW.name} {END}: validation failed")
    assert OUT_OF_RANGE in line
    assert _version(spark, demo_data) == before  # no commit at all
    assert _snapshot_dates(spark, demo_data) == {END - timedelta(days=1)}

    gate_id = re.search(r"gate_id='(\w+)'", line).group(1)  # type: ignore[union-attr]
    report = (
        spark.read.format("delta")
        .load(quarantine_table(demo_data))
        .filter(f"gate_id = '{gate_id}'")
        .collect()
    )
    checks = {f"{r['check']}[{r['column']}]": r for r in report if r["blocking"]}
    assert OUT_OF_RANGE in checks
    sampled = {json.loads(s)["user_id"] for s in checks[OUT_OF_RANGE]["sample"]}
    assert sampled == {1, 3}  # the users of the 2.5e9 and 1e9 payments
    assert checks[OUT_OF_RANGE]["failing_rows"] == 2
    assert {r["run_id"] for r in report} == {"run-bad"}

    [alert] = webhook.bodies()
    assert alert["skewless"]["severity"] == "failure"
    assert alert["skewless"]["run_id"] == "run-bad"
    assert alert["skewless"]["snapshot_date"] == END.isoformat()
    assert OUT_OF_RANGE in alert["text"]


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("SKEWLESS_PROJECT", settings.project)
    monkeypatch.setenv("SKEWLESS_ALERT_JSONL", str(settings.alert_jsonl))
    monkeypatch.delenv("SKEWLESS_ALERT_WEBHOOK", raising=False)
    monkeypatch.delenv("DELTA_ROOT", raising=False)


def test_cli_exits_non_zero_with_one_line(
    spark: Any,
    demo_data: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli_env(monkeypatch, demo_data)
    inject_bad_data(demo_data.data_root, END)
    argv = ["materialize", "--view", VIEW.name, "--date", END.isoformat()]

    assert main(argv) == ValidationFailed.exit_code
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"error: feature view {VIEW.name} {END}: validation failed")
    assert "report: " in error and "gate_id=" in error
    assert not Path(view_table(demo_data, VIEW.name)).exists()
    assert demo_data.alert_jsonl is not None
    [record] = [json.loads(x) for x in demo_data.alert_jsonl.read_text().splitlines()]
    assert record["kind"] == "validation.failed"


def test_cli_refuses_when_validation_is_switched_off(
    spark: Any,
    demo_data: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli_env(monkeypatch, demo_data)
    monkeypatch.setenv("PANDERA_VALIDATION_ENABLED", "False")
    argv = ["materialize", "--view", VIEW.name, "--date", END.isoformat()]

    assert main(argv) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "refusing to run because validation is switched off" in error
    assert "PANDERA_VALIDATION_ENABLED=False" in error
    assert not Path(view_table(demo_data, VIEW.name)).exists()

    # On purpose, with the flag: the snapshot is written and a warning alert says so.
    assert main([*argv, "--allow-unvalidated"]) == 0
    assert _snapshot_dates(spark, demo_data) == {END}
    assert demo_data.alert_jsonl is not None
    [record] = [json.loads(x) for x in demo_data.alert_jsonl.read_text().splitlines()]
    assert (record["severity"], record["kind"]) == ("warning", "validation.warning")
    assert "WITHOUT validation" in record["title"]

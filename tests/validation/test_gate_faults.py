"""The gate on otherwise good snapshots with one injected fault each (real Spark, Pandera).

For each fault: ValidationFailed with a one-line message, a report naming exactly the
injected check and rows, the batch in quarantine, a failure alert in the JSON-lines file
and on a real local webhook. Good data passes without any alert.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from feature_jobs.errors import ValidationFailed
from feature_jobs.offline import profiles_table, quarantine_rows_table, quarantine_table
from feature_jobs.settings import Settings
from feature_jobs.validation.gate import enforce_gate
from feature_jobs.validation.quarantine import SAMPLE_ROWS
from tests.support.webhook import WebhookReceiver
from tests.validation.snapshots import NOW, RUN_ID, VIEW, C, ddl, frame, good_rows

Expected = dict[str, int | None]


def _delta(spark: Any, path: str, gate_id: str) -> list[Any]:
    return spark.read.format("delta").load(path).filter(f"gate_id = '{gate_id}'").collect()


def _gate(spark: Any, settings: Settings, df: Any, feature_ts: Any = C, now: Any = NOW) -> Any:
    return enforce_gate(spark, settings, VIEW, df, feature_ts, RUN_ID, now=now)


def _pass_baseline(spark: Any, settings: Settings) -> None:
    """A validated snapshot the day before, so batch checks have something to compare."""
    before = C - timedelta(days=1)
    result = _gate(spark, settings, frame(spark, good_rows(40, feature_ts=before)), before)
    assert result.warnings == ()


def _expect_failure(
    spark: Any,
    settings: Settings,
    webhook: WebhookReceiver,
    df: Any,
    expected: Expected,
    bad_keys: set[int | None] | None,
    *,
    now: Any = NOW,
    alerts_before: int = 0,
) -> list[Any]:
    with pytest.raises(ValidationFailed) as caught:
        _gate(spark, settings, df, now=now)
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith("feature view user_transaction_stats 2024-03-01: validation failed")
    for name in expected:
        assert name in line
    gate_id = re.search(r"gate_id='(\w+)'", line).group(1)  # type: ignore[union-attr]
    assert f"report: {quarantine_table(settings)} where gate_id='{gate_id}'" in line

    report = _delta(spark, quarantine_table(settings), gate_id)
    blocking = {
        (f"{r['check']}[{r['column']}]" if r["column"] else r["check"]): r["failing_rows"]
        for r in report
        if r["blocking"]
    }
    assert blocking == expected
    if bad_keys is not None:
        for r in report:
            if r["blocking"]:
                sampled = {json.loads(row)["user_id"] for row in r["sample"]}
                assert sampled <= bad_keys
                assert len(sampled) == min(len(bad_keys), SAMPLE_ROWS)
    quarantined = _delta(spark, quarantine_rows_table(settings), gate_id)
    assert len(quarantined) == df.count()  # the whole batch is kept
    flagged = {json.loads(r["row"])["user_id"] for r in quarantined if r["failed_checks"]}
    assert flagged == (bad_keys or set())
    [profile_status] = {r["status"] for r in _delta(spark, profiles_table(settings), gate_id)}
    assert profile_status == "quarantined"

    assert settings.alert_jsonl is not None
    alerts = [json.loads(x) for x in settings.alert_jsonl.read_text().splitlines()]
    assert len(alerts) == alerts_before + 1
    alert = alerts[-1]
    assert (alert["severity"], alert["kind"]) == ("failure", "validation.failed")
    assert (alert["view"], alert["snapshot_date"], alert["run_id"]) == (
        VIEW.name,
        "2024-03-01",
        RUN_ID,
    )
    assert gate_id in alert["report_location"]
    alerted = {
        (f"{c['check']}[{c['column']}]" if c["column"] else c["check"]): c["failing_rows"]
        for c in alert["checks"]
    }
    assert expected.items() <= alerted.items()
    body = webhook.bodies()[-1]
    assert body["text"].startswith(":red_circle: FAILURE validation.failed")
    for name in expected:
        assert name in body["text"]
    assert f"gate_id='{gate_id}'" in body["text"]
    return report


def test_good_snapshot_passes_without_alert(
    spark: Any, alerting: Settings, webhook: WebhookReceiver
) -> None:
    result = _gate(spark, alerting, frame(spark, good_rows()))
    assert result.passed and result.validated
    assert (result.rows, result.warnings) == (40, ())
    assert alerting.alert_jsonl is not None and not alerting.alert_jsonl.exists()
    assert webhook.requests == []
    statuses = {r["status"] for r in _delta(spark, profiles_table(alerting), result.gate_id)}
    assert statuses == {"passed"}


def test_null_key(spark: Any, alerting: Settings, webhook: WebhookReceiver) -> None:
    rows = good_rows()
    rows[6]["user_id"] = None
    _expect_failure(spark, alerting, webhook, frame(spark, rows), {"not_null[user_id]": 1}, {None})


def test_duplicate_key_and_feature_ts(
    spark: Any, alerting: Settings, webhook: WebhookReceiver
) -> None:
    rows = good_rows()
    rows.append(dict(rows[4]))  # user 5 twice in the same snapshot
    expected: Expected = {"unique(user_id, feature_ts)": 2}
    _expect_failure(spark, alerting, webhook, frame(spark, rows), expected, {5})


def test_negative_count(spark: Any, alerting: Settings, webhook: WebhookReceiver) -> None:
    rows = good_rows()
    rows[2]["txn_count_1d"] = -1
    expected: Expected = {"greater_than_or_equal_to(0)[txn_count_1d]": 1}
    _expect_failure(spark, alerting, webhook, frame(spark, rows), expected, {3})


def test_value_outside_the_source_range(
    spark: Any, alerting: Settings, webhook: WebhookReceiver
) -> None:
    rows = good_rows()
    rows[3]["amount_avg_30d"] = 1e9  # amount is at most 100,000 (schemas/sources.py)
    expected: Expected = {"in_range(0.0, 100000.0)[amount_avg_30d]": 1}
    _expect_failure(spark, alerting, webhook, frame(spark, rows), expected, {4})


def test_wrong_type(spark: Any, alerting: Settings, webhook: WebhookReceiver) -> None:
    rows = good_rows()
    for row in rows:
        row["amount_avg_30d"] = str(row["amount_avg_30d"])
    df = frame(spark, rows, ddl(amount_avg_30d="STRING"))
    expected: Expected = {"dtype('DoubleType()')[amount_avg_30d]": 40}
    report = _expect_failure(spark, alerting, webhook, df, expected, None)
    assert "got StringType" in report[0]["message"]


def test_feature_ts_in_the_future(spark: Any, alerting: Settings, webhook: WebhookReceiver) -> None:
    now = C - timedelta(hours=1)  # the day is not over yet
    expected: Expected = {f"not_in_future(now={now.isoformat()})[feature_ts]": 40}
    df = frame(spark, good_rows())
    _expect_failure(spark, alerting, webhook, df, expected, set(range(1, 41)), now=now)


def test_empty_snapshot(spark: Any, alerting: Settings, webhook: WebhookReceiver) -> None:
    _expect_failure(spark, alerting, webhook, frame(spark, []), {"non_empty": None}, None)


def test_row_count_drop(spark: Any, alerting: Settings, webhook: WebhookReceiver) -> None:
    _pass_baseline(spark, alerting)
    df = frame(spark, good_rows(16))  # 40 -> 16 rows: a 60% drop
    report = _expect_failure(spark, alerting, webhook, df, {"row_count_drop_pct": None}, None)
    [drop] = [r for r in report if r["check"] == "row_count_drop_pct"]
    assert (drop["observed"], drop["baseline"], drop["threshold"]) == (60.0, 40.0, 50.0)


def test_null_rate_jump(spark: Any, alerting: Settings, webhook: WebhookReceiver) -> None:
    _pass_baseline(spark, alerting)
    rows = good_rows()
    for row in rows[1::2]:
        row["amount_avg_30d"] = None  # even user ids lose their value
    expected: Expected = {"null_rate_jump[amount_avg_30d]": 20}
    report = _expect_failure(
        spark, alerting, webhook, frame(spark, rows), expected, set(range(2, 41, 2))
    )
    [jump] = [r for r in report if r["check"] == "null_rate_jump"]
    assert (jump["observed"], jump["baseline"], jump["threshold"]) == (0.5, 0.0, 0.2)

"""The gate's warnings, hand-written domain rules, and its refusal to run unvalidated."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pandera.config import config_context

from feature_jobs.errors import ConfigError, ValidationFailed
from feature_jobs.offline import profiles_table, quarantine_rows_table
from feature_jobs.settings import Settings
from feature_jobs.validation.gate import enforce_gate
from tests.support.webhook import WebhookReceiver
from tests.validation.snapshots import NOW, RUN_ID, VIEW, C, frame, good_rows

#: The demo view with its distribution checks allowed on this test's 40-row snapshots.
SMALL_OK = replace(VIEW, checks={"psi": {"min_rows": 40}, "mean_shift_pct": {"min_rows": 40}})


def _gate(
    spark: Any,
    settings: Settings,
    rows: list[dict[str, Any]],
    feature_ts: Any = C,
    view: Any = VIEW,
) -> Any:
    return enforce_gate(spark, settings, view, frame(spark, rows), feature_ts, RUN_ID, now=NOW)


def _shifted_rows() -> list[dict[str, Any]]:
    rows = good_rows(40)
    for row in rows:
        row["amount_avg_30d"] *= 10  # still a valid amount, but a different population
    return rows


def test_drift_warns_and_publishes(
    spark: Any, alerting: Settings, webhook: WebhookReceiver
) -> None:
    before = C - timedelta(days=1)
    first = _gate(spark, alerting, good_rows(40, feature_ts=before), before, SMALL_OK)
    assert first.warnings == ()

    result = _gate(spark, alerting, _shifted_rows(), view=SMALL_OK)

    assert result.passed
    assert set(result.warnings) == {
        "mean_shift_pct[amount_avg_30d]: 900 vs limit 50, baseline 27.32",
        f"psi[amount_avg_30d]: {result.psi['amount_avg_30d']:.4g} vs limit 0.25",
    }
    assert result.psi["amount_avg_30d"] > 5
    assert result.psi["amount_max_30d"] == pytest.approx(0.0)
    [body] = webhook.bodies()
    assert body["text"].startswith(":warning: WARNING validation.warning")
    assert body["attachments"][0]["color"] == "#e8a317"
    assert body["skewless"]["report_location"].endswith(f"gate_id='{result.gate_id}'")
    profiles = spark.read.format("delta").load(profiles_table(alerting))
    psi = profiles.filter(f"gate_id = '{result.gate_id}' AND column = 'amount_avg_30d'")
    [row] = psi.select("status", "psi", "mean").collect()
    assert row["status"] == "passed"
    assert row["psi"] == pytest.approx(result.psi["amount_avg_30d"])
    assert row["mean"] == pytest.approx(273.25)


def test_distribution_checks_skip_small_populations(
    spark: Any, alerting: Settings, webhook: WebhookReceiver
) -> None:
    """The same shift on 40 entities, under the default ``min_rows`` of 100: no warning
    (a mean of a few dozen values moves by chance), but the PSI is still profiled."""
    before = C - timedelta(days=1)
    _gate(spark, alerting, good_rows(40, feature_ts=before), before)

    result = _gate(spark, alerting, _shifted_rows())

    assert result.passed
    assert result.warnings == ()
    assert result.psi["amount_avg_30d"] > 5
    assert webhook.bodies() == []


def test_domain_rules_name_their_rows(
    spark: Any, alerting: Settings, webhook: WebhookReceiver
) -> None:
    rows = good_rows()
    rows[9]["last_country"] = "france"
    rows[19]["txn_count_1d"], rows[19]["txn_count_7d"] = 8, 2

    with pytest.raises(ValidationFailed) as caught:
        _gate(spark, alerting, rows)

    line = str(caught.value)
    assert "str_matches('^[A-Z]{2}$')[last_country]: 1/40 rows" in line
    assert "count_1d_le_7d: 1/40 rows" in line
    gate_id = re.search(r"gate_id='(\w+)'", line).group(1)  # type: ignore[union-attr]
    quarantined = (
        spark.read.format("delta")
        .load(quarantine_rows_table(alerting))
        .filter(f"gate_id = '{gate_id}' AND size(failed_checks) > 0")
        .collect()
    )
    flagged = {json.loads(r["row"])["user_id"]: list(r["failed_checks"]) for r in quarantined}
    assert flagged == {
        10: ["str_matches('^[A-Z]{2}$')[last_country]"],
        20: ["count_1d_le_7d"],
    }


@pytest.mark.parametrize(
    ("switch", "reason"),
    [
        ({"validation_enabled": False}, "Pandera validation is disabled"),
        ({"validation_depth": "SCHEMA_ONLY"}, "Pandera validation depth is SCHEMA_ONLY"),
        ({"validation_depth": "DATA_ONLY"}, "Pandera validation depth is DATA_ONLY"),
    ],
)
def test_refuses_to_run_unvalidated(
    spark: Any, alerting: Settings, switch: dict[str, Any], reason: str
) -> None:
    rows = good_rows()
    rows[0]["txn_count_1d"] = -1  # would fail, were it validated
    with config_context(**switch), pytest.raises(ConfigError) as caught:
        _gate(spark, alerting, rows)
    assert reason in str(caught.value)
    assert "pass --allow-unvalidated" in str(caught.value)

    with config_context(**switch):
        result = enforce_gate(
            spark, alerting, VIEW, frame(spark, rows), C, RUN_ID, allow_unvalidated=True
        )
    assert (result.passed, result.validated) == (True, False)
    assert alerting.alert_jsonl is not None
    [alert] = [json.loads(x) for x in alerting.alert_jsonl.read_text().splitlines()]
    assert alert["severity"] == "warning"
    assert alert["title"] == (
        "user_transaction_stats 2024-03-01 written to offline WITHOUT validation"
    )


def test_environment_switch_is_refused_too(
    spark: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANDERA_VALIDATION_DEPTH", "SCHEMA_ONLY")
    with pytest.raises(ConfigError, match="PANDERA_VALIDATION_DEPTH=SCHEMA_ONLY"):
        _gate(spark, settings, good_rows())

"""Per-view batch-check settings: defaults, overrides, and clear errors for typos."""

from __future__ import annotations

import dataclasses

import pytest

from feature_jobs.errors import DefinitionError
from feature_jobs.validation.check_config import DEFAULTS, CheckSetting, batch_settings
from features import merchant_transaction_stats, user_risk_signals, user_transaction_stats

VIEW = user_transaction_stats


def _with_checks(checks: dict) -> object:  # type: ignore[type-arg]
    return dataclasses.replace(VIEW, checks=checks)


def test_demo_views_run_every_check_with_defaults() -> None:
    for view in (user_transaction_stats, user_risk_signals, merchant_transaction_stats):
        settings = batch_settings(view)
        assert set(settings) == set(DEFAULTS)
    assert batch_settings(VIEW)["row_count_drop_pct"] == CheckSetting(
        "row_count_drop_pct", 50.0, True
    )
    # Distribution checks skip populations under 100 rows on either side by default.
    assert batch_settings(VIEW)["psi"] == CheckSetting("psi", 0.25, False, None, 100)
    assert batch_settings(VIEW)["mean_shift_pct"].min_rows == 100
    assert batch_settings(VIEW)["null_rate_jump"].min_rows == 0


def test_overrides_and_disabling() -> None:
    view = _with_checks(
        {
            "row_count_drop_pct": {"threshold": 30},
            "psi": {"threshold": 0.1, "blocking": True, "columns": ["amount_avg_30d"]},
            "mean_shift_pct": False,
            "null_rate_jump": {"enabled": False},
        }
    )
    settings = batch_settings(view)  # type: ignore[arg-type]
    assert set(settings) == {"row_count_drop_pct", "psi"}
    assert settings["row_count_drop_pct"] == CheckSetting("row_count_drop_pct", 30.0, True)
    psi = settings["psi"]
    assert (psi.threshold, psi.blocking, psi.columns) == (0.1, True, ("amount_avg_30d",))
    assert psi.applies_to("amount_avg_30d") and not psi.applies_to("txn_count_1d")


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ({"row_count_drop": {"threshold": 5}}, "unknown check 'row_count_drop'"),
        ({"psi": 0.2}, "must be a dict like"),
        ({"psi": {"treshold": 0.2}}, "unknown setting 'treshold'"),
        ({"psi": {"threshold": -1}}, "threshold -1 must be a number >= 0"),
        ({"psi": {"blocking": "yes"}}, "blocking 'yes' must be True or False"),
        ({"psi": {"columns": ["nope"]}}, "'nope' is not a feature of the view"),
        ({"row_count_drop_pct": {"columns": ["txn_count_1d"]}}, "only to drift checks"),
        ({"psi": {"min_rows": -1}}, "min_rows -1 must be a whole number >= 0"),
        ({"psi": {"min_rows": 2.5}}, "min_rows 2.5 must be a whole number >= 0"),
        ({"null_rate_jump": {"min_rows": 5}}, "min_rows applies only to mean_shift_pct and psi"),
    ],
)
def test_bad_settings_name_the_view_and_the_fix(checks: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(DefinitionError, match=message) as caught:
        batch_settings(_with_checks(checks))  # type: ignore[arg-type]
    assert str(caught.value).startswith("feature view user_transaction_stats: checks")

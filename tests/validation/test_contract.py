"""Contracts: structural rules derived from the definitions, domain rules from schemas/.

Also: the one-pass evaluation agrees with a plain Pandera validation of the same schema,
and costs one Spark job instead of one per check.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from feature_jobs.demo.generator import generate
from feature_jobs.errors import DefinitionError
from feature_jobs.materialize import materialize
from feature_jobs.offline import view_table
from feature_jobs.settings import Settings
from feature_jobs.validation.contract import view_contract
from feature_jobs.validation.findings import pandera_errors
from feature_jobs.validation.scan import scan
from features import merchant_transaction_stats, user_risk_signals
from schemas import source_schema, view_schema
from tests.validation.snapshots import DAY, NOW, RUN_ID, VIEW, C, frame, good_rows


def _labels(view: Any) -> dict[str, str]:
    contract = view_contract(view, feature_ts=C, snapshot_date=DAY, run_id=RUN_ID, now=NOW)
    return {rule.label: rule.origin for rule in contract.rules}


def test_structure_follows_the_definitions() -> None:
    labels = _labels(VIEW)
    for expected in (
        "not_null[user_id]",
        "not_null[txn_count_1d]",
        "greater_than_or_equal_to(0)[txn_count_7d]",
        "greater_than_or_equal_to(0)[distinct_merchants_30d]",
        "greater_than_or_equal_to(0)[amount_sum_7d]",  # sum of a non-negative amount
        "in_range(0.0, 100000.0)[amount_avg_30d]",  # amount's declared range
        "in_range(0.0, 100000.0)[amount_max_30d]",
        "unique(user_id, feature_ts)",
        "non_empty",
        f"equal_to({C.isoformat()})[feature_ts]",
        f"not_in_future(now={NOW.isoformat()})[feature_ts]",
        f"equal_to({DAY})[snapshot_date]",
        f"equal_to({VIEW.version})[definition_version]",
        f"equal_to({RUN_ID})[run_id]",
    ):
        assert labels.get(expected) == "structural", expected
    assert labels["greater_than_or_equal_to(1)[distinct_merchants_30d]"] == "domain"
    assert labels["str_matches('^[A-Z]{2}$')[last_country]"] == "domain"
    assert labels["count_1d_le_7d"] == "domain"
    # A count is never null: the structure says so, the domain model does not repeat it.
    assert list(labels).count("not_null[distinct_merchants_30d]") == 1


def test_derived_columns_and_expressions_get_only_domain_ranges() -> None:
    labels = _labels(user_risk_signals)
    assert labels["in_range(0.0, 100000.0)[min_amount_7d]"] == "structural"
    assert not any(k.endswith("[online_amount_eur_sum_1d]") and v == "structural"
                   for k, v in labels.items())  # fmt: skip
    assert labels["greater_than_or_equal_to(0.0)[online_amount_eur_sum_1d]"] == "domain"
    assert labels["less_than_or_equal_to(10000000)[max_amount_cents_1d]"] == "domain"
    merchant = _labels(merchant_transaction_stats)
    assert merchant["isin(['online', 'pos'])[last_channel]"] == "structural"


def _bad_frame(spark: Any) -> Any:
    rows = good_rows(30)
    rows[0]["user_id"] = None
    rows[1]["txn_count_1d"] = -4
    rows[2]["amount_max_30d"] = 5e6
    rows[3]["last_country"] = "france"
    rows[4]["txn_count_1d"], rows[4]["txn_count_7d"] = 9, 3
    rows.append(dict(rows[5]))
    return frame(spark, rows)


def _failed(validated: Any) -> set[tuple[str, str]]:
    return {
        (str(e["column"]), str(e["check"]))
        for reasons in pandera_errors(validated).values()
        for entries in reasons.values()
        for e in entries
    }


def _jobs(spark: Any, group: str, action: Any) -> tuple[Any, int]:
    """Run ``action`` and count the Spark jobs it started."""
    context = spark.sparkContext
    context.setJobGroup(group, group)
    try:
        result = action()
    finally:
        context.setJobGroup("", "")
    return result, len(context.statusTracker().getJobIdsForGroup(group))


def test_one_pass_agrees_with_plain_pandera_and_costs_one_scan(spark: Any) -> None:
    df = _bad_frame(spark)
    contract = view_contract(VIEW, feature_ts=C, snapshot_date=DAY, run_id=RUN_ID, now=NOW)
    schema = view_schema(VIEW, feature_ts=C, run_id=RUN_ID, now=NOW)

    plain, plain_jobs = _jobs(spark, "plain", lambda: _failed(schema.validate(df)))
    result, scan_jobs = _jobs(spark, "scan", lambda: scan(df, contract.runnable(df.schema), {}))
    batched, pandera_jobs = _jobs(
        spark, "batched", lambda: _failed(contract.pandera_schema(result.violations).validate(df))
    )

    assert batched == plain
    assert batched == {
        ("user_id", "not_null"),
        ("txn_count_1d", "greater_than_or_equal_to(0)"),
        ("amount_max_30d", "in_range(0.0, 100000.0)"),
        ("last_country", "str_matches('^[A-Z]{2}$')"),
        (VIEW.name, "count_1d_le_7d"),
        (VIEW.name, "unique(user_id, feature_ts)"),
    }
    assert pandera_jobs == 0  # with the counts, Pandera decides without touching the data
    # One aggregation (adaptive execution runs each of its shuffle stages as a job) ...
    assert scan_jobs <= 3
    # ... where plain Pandera queries the data once per check.
    assert plain_jobs >= len(contract.rules)


def test_source_schema_is_a_plain_pandera_schema(spark: Any) -> None:
    from features import transactions

    schema = source_schema(transactions)
    assert schema.name == "transactions"
    assert not schema.strict  # raw sources may carry extra columns
    assert [c for c in schema.columns] == list(transactions.schema)


def _broken_views_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``schemas.views`` now fails to import (a dependency it needs is not installed)."""
    import schemas

    folder = tmp_path / "broken_schemas"
    folder.mkdir()
    (folder / "views.py").write_text("import skewless_missing_dependency  # noqa\n")
    monkeypatch.setattr(schemas, "__path__", [str(folder)])
    monkeypatch.delitem(sys.modules, "schemas.views", raising=False)
    monkeypatch.delattr(schemas, "views", raising=False)


def test_a_schemas_module_that_fails_to_import_stops_the_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _broken_views_module(tmp_path, monkeypatch)
    with pytest.raises(DefinitionError) as caught:
        view_contract(VIEW, feature_ts=C, snapshot_date=DAY, run_id=RUN_ID, now=NOW)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("schemas module schemas.views failed to import")
    assert "skewless_missing_dependency" in message


def test_a_schemas_package_that_does_not_exist_adds_no_domain_rules() -> None:
    contract = view_contract(
        VIEW, feature_ts=C, snapshot_date=DAY, run_id=RUN_ID, now=NOW,
        schemas_package="no_such_schemas_package",
    )  # fmt: skip
    assert {rule.origin for rule in contract.rules} == {"structural"}


def test_materialize_stops_when_the_schemas_module_fails_to_import(
    spark: Any, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    end = date(2026, 3, 10)
    generate(settings.data_root, days=5, end=end, users=10, merchants=3, seed=5)
    _broken_views_module(tmp_path, monkeypatch)
    with pytest.raises(DefinitionError, match=r"^schemas module schemas\.views failed"):
        materialize(spark, settings, VIEW, end, now=datetime(2026, 3, 20, tzinfo=UTC))
    assert not (Path(view_table(settings, VIEW.name)) / "_delta_log").exists()

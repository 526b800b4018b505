"""The definitions API refuses invalid definitions at load, naming the view and field."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from feature_jobs.definitions import (
    DerivedColumn,
    Entity,
    Feature,
    FeatureService,
    build_registry,
    load_registry,
)
from feature_jobs.errors import DefinitionError
from tests.feature_jobs.tiny_domain import tx_source, user_view

ROOT = Path(__file__).resolve().parents[2]


def test_demo_definitions_load_with_every_aggregation_and_window() -> None:
    registry = load_registry("features")
    assert set(registry.views) == {
        "user_transaction_stats",
        "user_risk_signals",
        "merchant_transaction_stats",
    }
    assert {v.entity.name for v in registry.views.values()} == {"user", "merchant"}
    functions = {f.function for v in registry.views.values() for f in v.features}
    assert functions == {"count", "sum", "avg", "min", "max", "count_distinct", "last"}
    windows = {f.window_delta.days for v in registry.views.values() for f in v.features}
    assert {1, 7, 30} <= windows
    assert registry.service("fraud_model_v1").refs[0].view == "user_transaction_stats"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: user_view(
                features=[Feature(name="x", function="sum", column="nope", window="1d")]
            ),
            r"feature view user_stats: feature x: unknown column 'nope'",
        ),
        (
            lambda: user_view(features=[Feature(name="x", function="count", window="1w")]),
            r"feature x: window: duration '1w' is invalid",
        ),
        (
            lambda: user_view(features=[Feature(name="x", function="count", window="0d")]),
            r"must be positive",
        ),
        (
            lambda: user_view(features=[Feature(name="x", function="count", window="36h")]),
            r"feature view user_stats: feature x: window 36h is not whole days",
        ),
        (
            lambda: user_view(
                features=[
                    Feature(name="x", function="count", window="1d"),
                    Feature(name="x", function="count", window="7d"),
                ]
            ),
            r"feature view user_stats: duplicate feature name 'x'",
        ),
        (
            lambda: user_view(
                features=[
                    Feature(name="x", function="sum", column="amount", window="1d", default="0")
                ]
            ),
            r"feature view user_stats: feature x: default '0' is not a double value",
        ),
        (
            lambda: user_view(
                features=[Feature(name="x", function="max", expression="amount * 2", window="1d")]
            ),
            r"feature x: expression= needs dtype=",
        ),
        (
            lambda: user_view(features=[Feature(name="x", function="median", window="1d")]),
            r"feature x: function 'median' is unknown",
        ),
        (lambda: user_view(cadence="weekly"), r"feature view user_stats: cadence 'weekly'"),
        (lambda: user_view(on_stale="ignore"), r"feature view user_stats: on_stale 'ignore'"),
        (lambda: user_view(name="User-Stats"), r"feature view name 'User-Stats' is invalid"),
        (
            lambda: user_view(entity=Entity(name="user", join_keys={"uid": "long"})),
            r"feature view user_stats: entity key 'uid' is not a column of source tx",
        ),
        (
            lambda: user_view(entity=Entity(name="user", join_keys={"user_id": "string"})),
            r"entity key 'user_id' is string in entity user but long in source tx",
        ),
        (
            lambda: user_view(
                derived_columns=[DerivedColumn(name="amount", expression="1", dtype="double")]
            ),
            r"derived column 'amount' shadows a source column",
        ),
        (lambda: tx_source(timestamp_column="when"), r"source tx: timestamp_column names unknown"),
        (lambda: tx_source(path=None), r"source tx: give exactly one of path= or table="),
        (
            lambda: Feature(name="feature_ts", function="count", window="1d"),
            r"feature feature_ts: the name is reserved",
        ),
    ],
)
def test_invalid_definitions_name_the_view_and_field(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DefinitionError, match=message) as caught:
        build()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        (
            Feature(name="x", function="sum", column="country", window="1d"),
            "feature view user_stats: feature x: sum of column 'country' of type string is "
            "not defined (sum needs long or double); aggregate a numeric column, or "
            "expression='CAST(country AS DOUBLE)' with dtype='double'",
        ),
        (
            Feature(name="x", function="avg", column="event_ts", window="1d"),
            "feature view user_stats: feature x: avg of column 'event_ts' of type timestamp "
            "is not defined (avg needs long or double); aggregate a numeric column, or "
            "expression='unix_seconds(event_ts)' with dtype='long'",
        ),
        (
            Feature(name="x", function="sum", column="is_big", window="1d"),
            "feature view user_stats: feature x: sum of column 'is_big' of type boolean is "
            "not defined (sum needs long or double); aggregate a numeric column, or "
            "expression='CAST(is_big AS LONG)' with dtype='long'",
        ),
        (
            Feature(
                name="x", function="avg", expression="upper(country)", dtype="string", window="1d"
            ),
            "feature view user_stats: feature x: avg of expression 'upper(country)' of type "
            "string is not defined (avg needs long or double); aggregate a numeric column, or "
            "expression='CAST((upper(country)) AS DOUBLE)' with dtype='double'",
        ),
    ],
)
def test_a_function_that_does_not_fit_its_input_type_is_refused_at_load(
    feature: Feature, message: str
) -> None:
    big = DerivedColumn(name="is_big", expression="amount > 100", dtype="boolean")
    with pytest.raises(DefinitionError) as caught:
        user_view(derived_columns=[big], features=[feature])
    assert str(caught.value) == message


def test_the_type_is_checked_before_the_default() -> None:
    # sum of a string would be a string: the default 0.0 is not the mistake to report.
    with pytest.raises(DefinitionError, match=r"sum of column 'country' of type string"):
        user_view(
            features=[Feature(name="x", function="sum", column="country", window="1d", default=0.0)]
        )


def test_dedup_key_without_an_ingestion_time_is_refused() -> None:
    with pytest.raises(DefinitionError) as caught:
        tx_source(ingestion_timestamp_column=None)
    assert str(caught.value) == (
        "source tx: dedup_key ['tx_id'] needs ingestion_timestamp_column to say which "
        "delivery of a record wins; name the column holding when each row arrived, or "
        "drop dedup_key if every record arrives once"
    )
    assert tx_source(ingestion_timestamp_column=None, dedup_key=[]).dedup_key == ()


def test_a_count_of_an_input_is_a_new_version_and_a_bare_count_keeps_its_own() -> None:
    bare = user_view(features=[Feature(name="x", function="count", window="1d")])
    of_column = user_view(
        features=[Feature(name="x", function="count", column="country", window="1d")]
    )
    # Before counts of a column counted non-null values, the fingerprint of a feature
    # was these eight fields; a bare count's still is, so its version did not move.
    assert len(bare._value_fingerprint()["features"][0]) == 8
    assert of_column._value_fingerprint()["features"][0][8:] == ("non_null",)
    assert of_column.version != bare.version


def test_feature_service_must_reference_existing_features() -> None:
    service = FeatureService(name="svc", features=["user_stats:count_1d", "user_stats:nope"])
    with pytest.raises(DefinitionError, match=r"feature service svc: .*has no feature 'nope'"):
        build_registry([user_view(), service])


def test_two_views_with_one_name_are_refused() -> None:
    with pytest.raises(
        DefinitionError, match=r"two different feature view definitions .*user_stats"
    ):
        build_registry([user_view(), user_view(max_age="5d")])


def test_version_ignores_description_owner_tags_but_not_values() -> None:
    view = user_view()
    relabelled = dataclasses.replace(view, description="new words", owner="other", tags={"a": "b"})
    assert relabelled.version == view.version
    assert user_view(max_age="9d").version != view.version
    assert user_view(filter="amount > 0").version != view.version
    wider = [dataclasses.replace(view.features[0], window="2d"), *view.features[1:]]
    assert user_view(features=wider).version != view.version
    assert user_view(source=tx_source(dedup_key=[])).version != view.version


BROKEN_WINDOW = """
from feature_jobs.definitions import Feature
bad = Feature(name="x", function="count", window="forever")
"""
# The README's example view, with a sum of a string column (it used to load, then fail
# inside Spark after a page of log).
SUM_OF_A_STRING = """
from feature_jobs.definitions import Feature, FeatureView
from features.entities import user
from features.sources import transactions
bad = FeatureView(
    name="user_weekend_spend", entity=user, source=transactions, owner="growth-ml",
    features=[Feature(name="country_sum_30d", function="sum", column="country", window="30d")],
)
"""


@pytest.mark.parametrize(
    ("module", "line"),
    [
        (
            BROKEN_WINDOW,
            "error: feature x: window: duration 'forever' is invalid; "
            "write it like '30d', '6h' or '90m'",
        ),
        (
            SUM_OF_A_STRING,
            "error: feature view user_weekend_spend: feature country_sum_30d: sum of column "
            "'country' of type string is not defined (sum needs long or double); aggregate a "
            "numeric column, or expression='CAST(country AS DOUBLE)' with dtype='double'",
        ),
    ],
)
def test_cli_prints_one_line_for_a_broken_definitions_module(
    tmp_path: Path, module: str, line: str
) -> None:
    package = tmp_path / "broken_defs"
    package.mkdir()
    (package / "__init__.py").write_text(module)
    env = {
        "PYTHONPATH": f"{tmp_path}:{ROOT}",
        "SKEWLESS_FEATURES": "broken_defs",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "feature_jobs", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == line
    assert "Traceback" not in result.stderr

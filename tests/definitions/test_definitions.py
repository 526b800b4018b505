"""The definitions API refuses invalid definitions at load, naming the view and field."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
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


def test_cli_prints_one_line_for_a_broken_definitions_module(tmp_path: Path) -> None:
    package = tmp_path / "broken_defs"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            from feature_jobs.definitions import Feature
            bad = Feature(name="x", function="count", window="forever")
            """
        )
    )
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
    assert result.stderr.strip() == (
        "error: feature x: window: duration 'forever' is invalid; "
        "write it like '30d', '6h' or '90m'"
    )
    assert "Traceback" not in result.stderr

"""The engine's snapshots equal an independent brute-force computation on demo data.

The generated history has late deliveries, duplicates, equal event times, events at
exact midnights and the 2026 US and EU daylight-saving dates.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest

from feature_jobs.definitions import load_registry
from feature_jobs.demo.generator import generate
from feature_jobs.materialize import materialize_range
from feature_jobs.offline import read_offline
from feature_jobs.settings import Settings
from feature_jobs.timeutil import day_start
from tests.oracle import snapshot_oracle

END = date(2026, 3, 31)
# Early (partial 30d history), the US and EU DST dates, and the last day.
DATES = [date(2026, 3, 2), date(2026, 3, 8), date(2026, 3, 29), END]


@pytest.fixture(scope="module")
def demo(spark, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("oracle")
    settings = Settings.from_env({"SKEWLESS_DATA_ROOT": str(root), "SKEWLESS_PROJECT": "oracle"})
    generate(settings.data_root, days=40, end=END, users=150, merchants=25, seed=11)
    registry = load_registry("features")
    now = day_start(END) + timedelta(days=2)
    for view in registry.views.values():
        materialize_range(spark, settings, view, DATES, run_id="oracle_test", now=now)
    raw = snapshot_oracle.read_source(settings.data_root, registry.sources["transactions"])
    return settings, registry, raw


@pytest.mark.parametrize(
    "view_name", ["user_transaction_stats", "user_risk_signals", "merchant_transaction_stats"]
)
def test_every_snapshot_equals_the_oracle(spark, demo, view_name: str) -> None:  # type: ignore[no-untyped-def]
    settings, registry, raw = demo
    view = registry.view(view_name)
    table = read_offline(spark, settings, view).toPandas()
    compared = 0
    for day in DATES:
        feature_ts = day_start(day) + timedelta(days=1)
        expected = snapshot_oracle.compute(view, raw, feature_ts)
        actual = table[table.snapshot_date == day].sort_values(list(view.keys))
        assert len(actual) == len(expected) > 0, f"{view_name} {day}: entity sets differ in size"
        assert list(actual[list(view.keys)].astype("int64").itertuples(index=False)) == list(
            expected[list(view.keys)].astype("int64").itertuples(index=False)
        ), f"{view_name} {day}: entity sets differ"
        for feature in view.features:
            got = actual[feature.name].tolist()
            want = expected[feature.name].tolist()
            for key, a, b in zip(actual[view.keys[0]], got, want, strict=True):
                assert _same(a, b), (
                    f"{view_name} {day} {view.keys[0]}={key} {feature.name}: {a!r} != {b!r}"
                )
                compared += 1
    assert compared > 500


def _same(actual: object, expected: object) -> bool:
    if (
        expected is None
        or expected is pd.NA
        or (isinstance(expected, float) and math.isnan(expected))
    ):
        return (
            actual is None or actual is pd.NA or (isinstance(actual, float) and math.isnan(actual))
        )
    if isinstance(expected, float):
        return isinstance(actual, float) and math.isclose(
            actual, expected, rel_tol=1e-9, abs_tol=1e-9
        )
    return actual == expected


def _demo_request(settings, registry, name: str, mode: str = "event-time"):  # type: ignore[no-untyped-def]
    from feature_jobs.training import TrainingSetRequest
    from feature_jobs.training.request import resolve_features

    refs, service = resolve_features(registry, None, "fraud_model_v1")
    return TrainingSetRequest(
        spine=settings.data_root / "raw" / "labels",
        spine_format="parquet",
        timestamp_column="ts",
        features=refs,
        output=settings.data_root / "training_sets" / name,
        mode=mode,  # type: ignore[arg-type]
        overwrite=True,
        feature_service=service,
    )


def test_both_training_engines_build_the_same_demo_training_set(spark, demo) -> None:  # type: ignore[no-untyped-def]
    """The demo's training set, by Spark and by the local engine: every row, the checksum,
    the statuses, the leakage report and the manifest are the same."""
    from feature_jobs.training import build_training_set
    from feature_jobs.training.local.engine import build_locally
    from tests.training.support import assert_same_build

    settings, registry, _ = demo
    by_spark = build_training_set(spark, settings, registry, _demo_request(settings, registry, "s"))
    by_local = build_locally(settings, registry, _demo_request(settings, registry, "l"))
    assert by_spark.rows > 1000
    counts = by_spark.status_counts["user_transaction_stats"]
    assert counts["PRESENT"] and counts["MISSING"] and counts["STALE"]
    assert_same_build(spark, by_spark, by_local, ordered=False)


def test_both_training_engines_refuse_alike(spark, demo) -> None:  # type: ignore[no-untyped-def]
    """No sync log yet: as-known mode is refused by both engines with the same line."""
    from feature_jobs.errors import TrainingSetError
    from feature_jobs.training import build_training_set
    from feature_jobs.training.local.engine import build_locally

    settings, registry, _ = demo
    with pytest.raises(TrainingSetError) as by_spark:
        build_training_set(
            spark, settings, registry, _demo_request(settings, registry, "s", "as-known")
        )
    with pytest.raises(TrainingSetError) as by_local:
        build_locally(settings, registry, _demo_request(settings, registry, "l", "as-known"))
    assert str(by_local.value) == str(by_spark.value)
    assert "sync log" in str(by_spark.value)

"""``engine="auto"``: local on a local master when the inputs fit the memory budget, else Spark."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from feature_jobs.definitions import FeatureRef
from feature_jobs.errors import ConfigError
from feature_jobs.settings import Settings
from feature_jobs.training.engines import DECODED_PER_PARQUET_BYTE, choose
from feature_jobs.training.request import TrainingSetRequest


def _request(settings: Settings, spine_bytes: int) -> TrainingSetRequest:
    spine = settings.data_root / "spine.parquet"
    spine.parent.mkdir(parents=True, exist_ok=True)
    spine.write_bytes(b"\0" * spine_bytes)
    return TrainingSetRequest(
        spine=spine,
        spine_format="parquet",
        timestamp_column="ts",
        # A view never materialized here: only the spine counts.
        features=(FeatureRef.parse("shop_daily:orders_7d"),),
        output=settings.data_root / "out",
    )


def test_auto_picks_local_when_the_inputs_fit(settings: Settings) -> None:
    engine, why = choose("auto", settings, _request(settings, 1000))
    assert engine == "local"
    assert "local master" in why


def test_auto_picks_spark_beyond_the_memory_budget(settings: Settings) -> None:
    small = dataclasses.replace(settings, local_engine_memory=10 * 1024**2)
    fits = _request(small, 10 * 1024**2 // DECODED_PER_PARQUET_BYTE)
    assert choose("auto", small, fits)[0] == "local"
    engine, why = choose("auto", small, _request(small, 10 * 1024**2))
    assert engine == "spark"
    assert "more than SKEWLESS_LOCAL_ENGINE_MEMORY (10 MB)" in why


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"spark_master": "spark://master:7077"}, "the cluster builds it"),
        ({"delta_root": "s3a://bucket/warehouse"}, "remote"),
    ],
)
def test_auto_picks_spark_for_a_cluster_or_a_remote_warehouse(
    settings: Settings, change: dict[str, str], reason: str
) -> None:
    engine, why = choose("auto", dataclasses.replace(settings, **change), _request(settings, 1))
    assert engine == "spark"
    assert reason in why


@pytest.mark.parametrize("named", ["local", "spark"])
def test_a_named_engine_is_used_as_asked(settings: Settings, named: str) -> None:
    remote = dataclasses.replace(settings, spark_master="spark://master:7077")
    assert choose(named, remote, _request(settings, 1)) == (named, f"--engine {named}")


def test_the_budget_is_read_from_the_environment(tmp_path: Path) -> None:
    env = {"SKEWLESS_DATA_ROOT": str(tmp_path)}
    assert Settings.from_env(env).local_engine_memory == 2 * 1024**3
    assert Settings.from_env(
        {**env, "SKEWLESS_LOCAL_ENGINE_MEMORY": "512MB"}
    ).local_engine_memory == (512 * 1024**2)
    with pytest.raises(ConfigError, match="SKEWLESS_LOCAL_ENGINE_MEMORY='lots' is invalid"):
        Settings.from_env({**env, "SKEWLESS_LOCAL_ENGINE_MEMORY": "lots"})

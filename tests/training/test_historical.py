"""The notebook API: ``get_historical_features`` from pandas, Arrow, Spark or a path.

Every spine kind and both engines give the same checksum; the result reads back as pandas,
Arrow and Spark, writes with a manifest that ``--from-manifest`` rebuilds with either
engine, and a training call never starts a redis-server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from feature_jobs.cli import main
from feature_jobs.errors import TrainingSetError
from feature_jobs.online.store import FeatureStore
from feature_jobs.settings import Settings
from tests.training import defs
from tests.training.support import registry, utc, write_offline

D1, D2 = utc(2024, 3, 2), utc(2024, 3, 3)
FEATURES = ["shop_daily:orders_7d", "shop_daily:amount_sum_7d", "shop_daily:last_country"]


@pytest.fixture
def store(spark: SparkSession, settings: Settings) -> FeatureStore:
    write_offline(
        spark,
        settings,
        defs.shop_daily,
        {
            D1: {(1,): {"orders_7d": 3, "amount_sum_7d": 4.5, "last_country": "FR"}},
            D2: {
                (1,): {"orders_7d": 5, "amount_sum_7d": None, "last_country": "BE"},
                (2,): {"orders_7d": 1, "amount_sum_7d": 2.0, "last_country": None},
            },
        },
    )
    return FeatureStore(settings, registry=registry())


def _labels() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "shop_id": [1, 2, 1, 1, 3, 2],
            "ts": pd.to_datetime(
                [
                    D1 - timedelta(microseconds=1),  # before the first snapshot: MISSING
                    D1,  # shop 2 is not in D1: MISSING
                    D1,  # exactly at the snapshot: PRESENT
                    D2 + timedelta(hours=5),
                    D2,  # never seen: MISSING
                    D2 + timedelta(days=3),  # older than max_age (2d): STALE
                ],
                utc=True,
            ),
            "label": [0, 1, 0, 1, 0, 1],
        }
    )


def test_pandas_spine_to_pandas_training_set(store: FeatureStore) -> None:
    training = store.get_historical_features(
        _labels(), features=FEATURES, engine="local", keep_spine_order=True
    )
    frame = training.to_pandas()
    assert list(frame.columns) == [
        "shop_id",
        "ts",
        "label",
        "shop_daily__orders_7d",
        "shop_daily__amount_sum_7d",
        "shop_daily__last_country",
        "shop_daily__status",
        "shop_daily__feature_ts",
    ]
    assert list(frame["shop_daily__status"]) == [
        "MISSING",
        "MISSING",
        "PRESENT",
        "PRESENT",
        "MISSING",
        "STALE",
    ]
    assert list(frame["shop_daily__orders_7d"]) == [0, 0, 3, 5, 0, 0]
    # A null sum takes the default (0.0); a missing entity all defaults.
    assert list(frame["shop_daily__amount_sum_7d"]) == [0.0, 0.0, 4.5, 0.0, 0.0, 0.0]
    assert list(frame["shop_daily__last_country"]) == ["??", "??", "FR", "BE", "??", "??"]
    assert list(frame["label"]) == [0, 1, 0, 1, 0, 1]
    assert training.engine == "local"
    assert training.status_counts == {"shop_daily": {"PRESENT": 2, "MISSING": 3, "STALE": 1}}
    # A naive join would read D2 at rows 0-2; the written rows hold nothing from the future.
    assert training.leakage["naive_join_rows_using_future_values"] == 3
    assert training.leakage["rows_using_future_values"] == 0
    assert training.leakage["summary"] == (
        "rows using future values: 0 of 6; a naive latest-value join would have used values "
        "from after the row's timestamp in 3 (50.0%) (shop_daily 3)"
    )
    assert training.rows == 6
    assert store._server_link is None  # no redis-server was started or needed


def test_every_spine_kind_and_both_engines_give_the_same_rows(
    spark: SparkSession, settings: Settings, store: FeatureStore
) -> None:
    labels = _labels()
    path = settings.data_root / "labels.parquet"
    # Microseconds, as Spark reads them (pandas' nanoseconds are refused by Spark's reader).
    table = pa.Table.from_pandas(labels, preserve_index=False)
    pq.write_table(table, path, coerce_timestamps="us")
    spines = {
        "pandas": labels,
        "arrow": pa.Table.from_pandas(labels, preserve_index=False),
        "spark": spark.createDataFrame(labels),
        "path": path,
    }
    built = {}
    for kind, spine in spines.items():
        for engine in ("local", "spark"):
            training = store.get_historical_features(
                spine, features=FEATURES, engine=engine, spark=spark
            )
            assert training.engine == engine
            built[(kind, engine)] = training
    reference = built[("pandas", "local")]
    expected = reference.to_pandas().sort_values(["shop_id", "ts"], ignore_index=True)
    for (kind, engine), training in built.items():
        context = f"{kind} spine, {engine} engine"
        assert training.checksum == reference.checksum, context
        assert (
            training.manifest["spine"]["fingerprint"]
            == (reference.manifest["spine"]["fingerprint"])
        ), context
        got = training.to_pandas().sort_values(["shop_id", "ts"], ignore_index=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=context)
    spark_rows = built[("pandas", "spark")].to_spark(spark).count()
    assert spark_rows == len(labels)


def test_write_then_rebuild_from_the_manifest_with_either_engine(
    settings: Settings, store: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    training = store.get_historical_features(
        _labels(), features=FEATURES, engine="local", keep_spine_order=True
    )
    assert training.path is None  # the local engine's rows are in memory until written
    output = training.write(settings.data_root / "training_sets" / "shops")
    assert training.path == output
    manifest = json.loads((output.parent / "shops.manifest.json").read_text())
    assert manifest["output"]["path"] == str(output)
    assert Path(manifest["spine"]["path"]).parent == settings.data_root / "spines"
    assert training.to_pandas()["label"].tolist() == [0, 1, 0, 1, 0, 1]  # read where it went
    with pytest.raises(TrainingSetError, match="written to"):
        training.write(settings.data_root / "training_sets" / "again")
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("SKEWLESS_FEATURES", "tests.training.defs")
    for engine in ("spark", "local"):
        rebuilt = settings.data_root / "training_sets" / f"rebuilt_{engine}"
        code = main(
            [
                "training-set",
                "--from-manifest",
                str(output.parent / "shops.manifest.json"),
                "--output",
                str(rebuilt),
                "--engine",
                engine,
            ]
        )
        assert code == 0
        again = json.loads((rebuilt.parent / f"rebuilt_{engine}.manifest.json").read_text())
        assert again["output"]["checksum"] == manifest["output"]["checksum"]
        assert again["engine"] == engine


def test_an_unwritten_training_set_leaves_nothing_behind(
    spark: SparkSession, settings: Settings, store: FeatureStore
) -> None:
    # The Spark engine's rows wait in a scratch folder until written, or are deleted.
    training = store.get_historical_features(
        _labels(), features=FEATURES, engine="spark", spark=spark
    )
    folder = training.path
    assert folder is not None and folder.is_dir()
    del training
    assert not folder.exists()


def test_bad_arguments_are_one_line_errors(store: FeatureStore) -> None:
    with pytest.raises(TrainingSetError, match="engine 'duck' is unknown"):
        store.get_historical_features(_labels(), features=FEATURES, engine="duck")
    naive = _labels().assign(ts=lambda f: f["ts"].dt.tz_localize(None))
    with pytest.raises(TrainingSetError, match="naive timestamps"):
        store.get_historical_features(naive, features=FEATURES, engine="local")


def test_the_local_engine_never_imports_spark(settings: Settings, store: FeatureStore) -> None:
    path = settings.data_root / "labels.parquet"
    pq.write_table(pa.Table.from_pandas(_labels(), preserve_index=False), path)
    script = (
        "import sys\n"
        "from feature_jobs.settings import Settings\n"
        "from feature_jobs.online.store import FeatureStore\n"
        "from feature_jobs.definitions import build_registry\n"
        "from tests.training import defs\n"
        "registry = lambda: build_registry([defs.shop_daily])\n"
        f"env = {{'SKEWLESS_DATA_ROOT': {str(settings.data_root)!r}}}\n"
        "store = FeatureStore(Settings.from_env(env), registry=registry())\n"
        f"t = store.get_historical_features({str(path)!r}, features={FEATURES!r})\n"
        "print(t.engine, t.rows, 'pyspark' in sys.modules, 'py4j' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["local", "6", "False", "False"]

"""The end of ``make demo``: publish the latest snapshots, read them back, build a training set.

Kept apart from the CLI module so the demo's story reads top to bottom: what is served
online, with which status, and what a point-in-time training set of the chargeback labels
looks like (with the leakage a naive join would have had).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from feature_jobs.definitions import Registry
from feature_jobs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Say = Callable[[str], None]

#: The model whose features the demo trains and serves.
DEMO_SERVICE = "fraud_model_v1"


def publish_latest(
    spark: SparkSession, settings: Settings, registry: Registry, day: date, say: Say
) -> None:
    """Sync the snapshot of ``day`` of every view to Redis."""
    from feature_jobs.online.sync import sync

    for name in sorted(registry.views):
        result = sync(spark, settings, registry.views[name], day)
        state = "live" if result.published else f"not published ({result.reason})"
        say(
            f"  synced {name} {day}: {result.rows} entities from Delta version "
            f"{result.delta_version}, {state}, {result.seconds:.1f}s"
        )


def show_lookups(
    settings: Settings, registry: Registry, entities: list[dict[str, int]], say: Say
) -> None:
    """Read a few entities (and one that does not exist) through the serving SDK."""
    from feature_jobs.online.store import FeatureStore

    store = FeatureStore(settings, registry=registry)
    try:
        response = store.get_online_features(DEMO_SERVICE, entities)
    finally:
        store.close()
    # One row per feature, one column per entity: the whole answer fits on a screen.
    keys = list(response.entities[0])
    heads = ["(" + ", ".join(str(e[k]) for k in keys) + ")" for e in response.entities]
    cells = [
        [_cell(response.values[i][j], response.statuses[i][j].value) for i in range(len(heads))]
        for j in range(len(response.features))
    ]
    label = "feature \\ (" + ", ".join(keys) + ")"
    width = max(len(label), *(len(f) for f in response.features))
    widths = [max(len(heads[i]), *(len(row[i]) for row in cells)) for i in range(len(heads))]
    for first, row in [(label, heads), *zip(response.features, cells, strict=True)]:
        line = f"  {first:<{width}}" + "".join(
            f"  {c:<{w}}" for c, w in zip(row, widths, strict=True)
        )
        say(line.rstrip())


def _cell(value: object, status: str) -> str:
    """A value as served, with its status unless PRESENT."""
    shown = f"{value:.2f}" if isinstance(value, float) else repr(value)
    return shown if status == "PRESENT" else f"{shown} ({status})"


def build_label_training_set(
    spark: SparkSession, settings: Settings, registry: Registry, say: Say
) -> None:
    """Point-in-time training set of the chargeback labels for the demo's model."""
    from feature_jobs.training.job import build_training_set
    from feature_jobs.training.request import TrainingSetRequest, resolve_features

    refs, service = resolve_features(registry, None, DEMO_SERVICE)
    # Where the training-set DAG writes its outputs too.
    output = settings.data_root / "training_sets" / DEMO_SERVICE
    request = TrainingSetRequest(
        spine=settings.data_root / "raw" / "labels",
        spine_format="parquet",
        timestamp_column="ts",
        features=refs,
        output=output,
        overwrite=True,
        feature_service=service,
    )
    result = build_training_set(spark, settings, registry, request, progress=lambda _: None)
    say(
        f"  {result.rows} labelled rows x {len(refs)} features in {result.seconds:.1f}s -> {output}"
    )
    for view, counts in result.status_counts.items():
        say(f"    {view}: " + ", ".join(f"{status} {n}" for status, n in counts.items()))
    say(f"  {result.leakage['summary']}")
    say(f"  manifest: {result.manifest}")

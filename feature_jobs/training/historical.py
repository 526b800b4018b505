"""The training SDK: ``get_historical_features(spine, features, ...)`` from a notebook.

One call goes from a spine (pandas, Arrow, Spark or a path) to a :class:`TrainingSet`
with the same rows, checksum and manifest the ``training-set`` command writes: it *is*
that command's build, run in-process by the engine ``auto`` picks (the local engine on
a local master, in about a second for a million rows; Spark otherwise).

An in-memory spine is saved first, under ``<data root>/spines/``, as Parquet: the
manifest names that file, so ``--from-manifest`` rebuilds the very same training set.
The local engine keeps the result in memory; the Spark engine's stays in a hidden
scratch folder. :meth:`TrainingSet.write` puts it in place under the output rules of the
``training-set`` command; scratch files never written are deleted with the object.

Example::

    store = FeatureStore(Settings.from_env())
    training = store.get_historical_features(labels_df, feature_service="fraud_model_v1")
    frame = training.to_pandas()          # spine columns + <view>__<feature> columns
    training.status_counts                # {"user_transaction_stats": {"PRESENT": ...}}
    training.write("data/training_sets/fraud_v1")   # + fraud_v1.manifest.json
"""

from __future__ import annotations

import json
import os
import uuid
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feature_jobs.definitions import Registry
from feature_jobs.errors import TrainingSetError
from feature_jobs.settings import Settings
from feature_jobs.timeutil import utc_now
from feature_jobs.training import manifest as manifest_io
from feature_jobs.training.engines import ENGINES, build
from feature_jobs.training.paths import (
    check_output,
    checked_input,
    checked_path,
    manifest_path,
    publish,
    remove,
    spine_format,
    staging_path,
)
from feature_jobs.training.request import (
    MODES,
    OUTPUT_FORMATS,
    TrainingSetRequest,
    resolve_features,
)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

#: Where in-memory spines are saved (under the data root), so manifests can name them.
SPINES_FOLDER = "spines"
#: Saves in-memory spines while the build runs.
_SAVER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="skewless-spine-saver")
_SCRATCH = Path("training") / ".scratch"


class TrainingSet:
    """A built training set: its rows, its manifest, and what its build counted.

    The local engine keeps the rows in memory until :meth:`write`; the Spark engine's rows
    are files in a scratch folder until :meth:`write` moves them into place.
    """

    def __init__(
        self,
        manifest: dict[str, Any],
        settings: Settings,
        registry: Registry,
        folder: Path | None = None,
        table: pa.Table | None = None,
    ) -> None:
        self._folder = folder
        self._table = table
        self._written: Path | None = None
        self._settings = settings
        self._registry = registry
        self.manifest = manifest
        # Scratch files nobody wrote are deleted with the object (or at exit).
        self._cleanup = weakref.finalize(self, _discard, folder)

    @property
    def engine(self) -> str:
        """``local`` or ``spark``: which engine built it."""
        return str(self.manifest["engine"])

    @property
    def rows(self) -> int:
        """Number of rows (the spine's)."""
        return int(self.manifest["output"]["rows"])

    @property
    def checksum(self) -> str:
        """Order-free checksum of the rows (equal from both engines)."""
        return str(self.manifest["output"]["checksum"])

    @property
    def status_counts(self) -> dict[str, dict[str, int]]:
        """Per view, how many rows are PRESENT, MISSING and STALE."""
        return dict(self.manifest["output"]["status_counts"])

    @property
    def leakage(self) -> dict[str, Any]:
        """What a naive latest-value join would have leaked (:mod:`.leakage`)."""
        return dict(self.manifest["leakage"])

    @property
    def path(self) -> Path | None:
        """Where the rows are on disk: the scratch folder, or where :meth:`write` put them."""
        return self._written or self._folder

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table."""
        if self._table is not None:
            return self._table
        from feature_jobs.training.local.spine import read_output

        assert self.path is not None  # a set without rows in memory has files
        return read_output(self.path, self.manifest["output"]["format"])

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (timestamps as UTC-aware values)."""
        return self.to_arrow().to_pandas()

    def to_spark(self, spark: SparkSession) -> DataFrame:
        """The rows as a Spark DataFrame (read from the files when there are files)."""
        if self.path is None:
            return spark.createDataFrame(self.to_arrow())
        return spark.read.format(self.manifest["output"]["format"]).load(str(self.path))

    def write(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the rows to ``path`` and ``<path>.manifest.json`` beside them.

        The output rules are the ``training-set`` command's: under the data root, not a
        table or input, and an existing training set only with ``overwrite``.

        Raises:
            TrainingSetError: a refused output path, or this set was already written.
        """
        if self._written is not None:
            raise TrainingSetError(
                f"this training set was written to {self._written} already; build it again "
                "to write another copy"
            )
        output = checked_path(path, self._settings, "output")
        spine = Path(self.manifest["spine"]["path"])
        check_output(output, overwrite, self._settings, [spine], self._registry, "output")
        output.parent.mkdir(parents=True, exist_ok=True)
        self.manifest["output"]["path"] = str(output)
        staged = self._folder
        if staged is None:
            from feature_jobs.training.local.engine import write_rows

            staged = staging_path(output)
            table = self.to_arrow()
            try:
                write_rows(
                    table.schema, table.to_batches(), self.manifest["output"]["format"], staged
                )
            except BaseException:
                remove(staged)
                raise
        publish(staged, output, manifest_io.render(self.manifest))
        self._written, self._folder = output, None
        self._cleanup.detach()
        return output


def get_historical_features(
    settings: Settings,
    registry: Registry,
    spine: pd.DataFrame | pa.Table | DataFrame | str | Path,
    features: Sequence[str] | None = None,
    feature_service: str | None = None,
    mode: str = "event-time",
    engine: str = "auto",
    timestamp_column: str = "ts",
    output_format: str = "parquet",
    keep_spine_order: bool = False,
    spark: SparkSession | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainingSet:
    """Point-in-time features for every row of ``spine``, as a :class:`TrainingSet`.

    Args:
        spine: entity keys, a UTC timestamp column and any labels; a pandas DataFrame,
            an Arrow table, a Spark DataFrame, or a Parquet/CSV/Delta path under the
            data root.
        features: ``view:feature`` references; or name a ``feature_service``.
        mode: ``event-time`` (the latest snapshot at ts) or ``as-known`` (what online
            served at ts).
        engine: ``auto`` (local on a local master when the inputs fit), ``local``, ``spark``.
        keep_spine_order: rows in the spine's order (a sort of the output); by default
            they come in the engine's order, each with its spine columns.
        spark: a session for the Spark engine; one is started when it is needed and omitted.

    Raises:
        TrainingSetError: a bad spine, unknown features, a vacuumed version... (one line).
    """
    if mode not in MODES:
        raise TrainingSetError(f"mode {mode!r} is unknown; use one of {', '.join(MODES)}")
    if engine not in ENGINES:
        raise TrainingSetError(f"engine {engine!r} is unknown; use one of {', '.join(ENGINES)}")
    if output_format not in OUTPUT_FORMATS:
        raise TrainingSetError(
            f"output_format {output_format!r} is unknown; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    refs, service = resolve_features(
        registry, list(features) if features is not None else None, feature_service
    )
    spine_path, fmt, in_memory, saving = _spine_on_disk(settings, spine)
    scratch = settings.data_root / _SCRATCH / f"{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    request = TrainingSetRequest(
        spine=spine_path,
        spine_format=fmt,
        timestamp_column=timestamp_column,
        features=refs,
        output=scratch,
        output_format=output_format,
        mode=mode,  # type: ignore[arg-type]
        feature_service=service,
        keep_spine_order=keep_spine_order,
    )

    def session() -> SparkSession:
        saving.result()  # Spark reads the saved spine
        if spark is not None:
            return spark
        from feature_jobs.spark.session import build_spark

        return build_spark(settings, app_name="skewless-training-set")

    try:
        result = build(
            engine,
            settings,
            registry,
            request,
            session,
            progress=progress,
            spine_rows=in_memory,
            in_memory=True,
        )
    finally:
        saving.result()  # the manifest names the saved spine: it must be there
    if result.table is not None and result.document is not None:
        return TrainingSet(result.document, settings, registry, table=result.table)
    manifest_file = manifest_path(scratch)
    document = json.loads(manifest_file.read_text(encoding="utf-8"))
    os.remove(manifest_file)
    return TrainingSet(document, settings, registry, folder=scratch)


def _spine_on_disk(
    settings: Settings, spine: pd.DataFrame | pa.Table | DataFrame | str | Path
) -> tuple[Path, str, pa.Table | None, Future[None]]:
    """A path spine as it is; an in-memory one saved as Parquet under ``spines/``.

    Returns the path, its format, (pandas or Arrow) the rows as saved, so the local
    engine need not read them back, and the saving, which runs beside the build.
    """
    done: Future[None] = Future()
    done.set_result(None)
    if isinstance(spine, str | Path):
        path = checked_input(spine, settings, "spine")
        return path, spine_format(path, "auto"), None, done
    folder = settings.data_root / SPINES_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"spine-{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    if hasattr(spine, "sparkSession"):  # a Spark DataFrame: written by Spark, no collect
        path = folder / name
        spine.write.parquet(str(path))  # type: ignore[union-attr]
        return path, "parquet", None, done
    import pyarrow.parquet as pq

    path = folder / f"{name}.parquet"
    table = _as_arrow(spine)
    # Saved beside the build: the local engine checks the rows in memory meanwhile (a
    # Spark build waits for the file, see get_historical_features).
    saving = _SAVER.submit(pq.write_table, table, path)
    return path, "parquet", table, saving


def _as_arrow(spine: Any) -> pa.Table:
    """pandas or Arrow as Arrow, timestamps in microseconds (Spark's precision)."""
    import pyarrow as pa

    table = (
        spine if isinstance(spine, pa.Table) else pa.Table.from_pandas(spine, preserve_index=False)
    )
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.unit == "ns":
            try:  # a safe cast: refuses any value that is not a whole microsecond
                micros = table.column(i).cast(pa.timestamp("us", field.type.tz))
            except pa.ArrowInvalid:
                raise TrainingSetError(
                    f"spine column {field.name!r} has timestamps finer than a microsecond; "
                    "round them to microseconds (training sets keep microseconds)"
                ) from None
            table = table.set_column(i, field.name, micros)
    return table


def _discard(folder: Path | None) -> None:
    if folder is not None:
        remove(folder)

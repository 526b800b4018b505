"""What a build produced, the checks on it, and its manifest, whichever engine built it.

The Spark engine and the local engine produce the same rows; everything said about them
(the row-count check, the checksum's rendering, the rebuild checks, the manifest) is
decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feature_jobs.errors import TrainingSetError
from feature_jobs.timeutil import utc_now
from feature_jobs.training import manifest as manifest_io
from feature_jobs.training.inputs import PinnedVersions
from feature_jobs.training.request import TrainingSetRequest, ViewRequest, output_columns
from feature_jobs.training.spine import SpineFacts


@dataclass(frozen=True)
class TrainingSetResult:
    """What a build produced (also recorded in the manifest)."""

    output: Path
    manifest: Path
    rows: int
    checksum: str
    status_counts: dict[str, dict[str, int]]
    leakage: dict[str, Any]
    seconds: float
    engine: str = "spark"
    #: An in-memory build (the notebook API's local engine): its manifest and rows.
    document: dict[str, Any] | None = None
    table: Any = None  # a pyarrow Table


def check_row_count(rows: int, spine_rows: int) -> int:
    """The output has exactly the spine's rows, or the offline data is broken.

    Raises:
        TrainingSetError: more (or fewer) rows than the spine.
    """
    if rows != spine_rows:
        raise TrainingSetError(
            f"the join produced {rows} rows for a spine of {spine_rows}: an offline table "
            "holds an entity twice in one snapshot; re-materialize that date"
        )
    return rows


def render_checksum(rows: int, hash_total: object) -> str:
    """The output checksum: ``<rows>:<exact sum of the row hashes>``."""
    return f"{rows}:{hash_total}"


def check_rebuilt_fingerprint(pins: manifest_io.Pins | None, spine: SpineFacts) -> None:
    """A rebuild reads the very spine its manifest recorded.

    Raises:
        TrainingSetError: the spine's fingerprint changed.
    """
    if pins is not None and spine.fingerprint != pins.spine_fingerprint:
        raise TrainingSetError(
            f"spine {spine.path} changed since the manifest was written "
            f"(fingerprint {spine.fingerprint} != {pins.spine_fingerprint}); restore "
            "it to rebuild"
        )


def check_rebuilt_checksum(pins: manifest_io.Pins | None, checksum: str) -> None:
    """A rebuild writes the very rows its manifest recorded.

    Raises:
        TrainingSetError: the output's checksum differs.
    """
    if pins is not None and pins.checksum is not None and checksum != pins.checksum:
        raise TrainingSetError(
            f"the rebuilt output's checksum {checksum} differs from the manifest's "
            f"{pins.checksum}; nothing was written"
        )


def check_definitions(views: list[ViewRequest], pins: manifest_io.Pins) -> None:
    """A rebuild runs the definition versions its manifest recorded.

    Raises:
        TrainingSetError: a view's definition changed since.
    """
    for view in views:
        pinned = pins.definition_versions.get(view.view.name)
        if pinned != view.view.version:
            raise TrainingSetError(
                f"view {view.view.name} is now definition version {view.view.version} but the "
                f"manifest was built with {pinned}; check out the definitions of that version "
                "to rebuild"
            )


def manifest_document(
    request: TrainingSetRequest,
    spine: SpineFacts,
    views: list[ViewRequest],
    inputs: PinnedVersions,
    rows: int,
    checksum: str,
    counts: dict[str, dict[str, int]],
    leakage: dict[str, Any],
    engine: str,
) -> dict[str, Any]:
    """The manifest of a build (``seconds`` is added by the caller)."""
    view_entries: dict[str, Any] = {}
    for view in views:
        definition = view.view
        entry: dict[str, Any] = {
            "definition_version": definition.version,
            "features": list(view.features),
            "cadence": definition.cadence,
            "max_age_seconds": definition.max_age_delta.total_seconds(),
            "on_stale": definition.on_stale,
        }
        if definition.name in inputs.offline:
            entry["offline_path"], entry["delta_version"] = inputs.offline[definition.name]
        if inputs.sync_log is not None:
            pubs = inputs.publications[definition.name]
            entry["published_delta_versions"] = sorted({p.delta_version for p in pubs})
            entry["publications"] = [p.to_json() for p in pubs]
        view_entries[definition.name] = entry
    return {
        "created_at": utc_now().isoformat(),
        "engine": engine,
        "mode": request.mode,
        "features": [str(ref) for ref in request.features],
        "feature_service": request.feature_service,
        "spine": {
            "path": str(spine.path),
            "format": spine.format,
            "timestamp_column": spine.timestamp_column,
            "columns": list(spine.columns),
            "rows": spine.rows,
            "fingerprint": spine.fingerprint,
        },
        "views": view_entries,
        "sync_log": (
            None
            if inputs.sync_log is None
            else {"path": inputs.sync_log[0], "delta_version": inputs.sync_log[1]}
        ),
        "output": {
            "path": str(request.output),
            "format": request.output_format,
            "keep_spine_order": request.keep_spine_order,
            "rows": rows,
            "checksum": checksum,
            "columns": output_columns(spine.columns, views),
            "status_counts": counts,
        },
        "leakage": leakage,
        "code_version": manifest_io.code_version(),
    }

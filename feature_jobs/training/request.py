"""What a training-set request asks for: the spine, the features, the mode, the output.

Output column naming (one rule, documented in ``--help``): every feature is written as
``<view>__<feature>``, followed, per view, by ``<view>__status`` and ``<view>__feature_ts``.
The view prefix is always there, even when a feature name is unique, so adding a view to a
request never renames the columns a model was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from feature_jobs.definitions import FeatureRef, FeatureView, Registry
from feature_jobs.errors import DefinitionError, TrainingSetError

Mode = Literal["event-time", "as-known"]
MODES: tuple[str, ...] = ("event-time", "as-known")
SPINE_FORMATS: tuple[str, ...] = ("auto", "parquet", "csv", "delta")
OUTPUT_FORMATS: tuple[str, ...] = ("parquet", "delta")

#: Separator between a view name and a feature (or status/feature_ts) in output columns.
SEPARATOR = "__"


@dataclass(frozen=True)
class TrainingSetRequest:
    """A checked request; paths are absolute and inside the data root.

    Attributes:
        spine: the spine file or folder.
        spine_format: parquet, csv or delta (``auto`` resolved already).
        timestamp_column: the spine column holding each row's point in time (UTC).
        features: requested features, in output order.
        output: where the training set goes (a folder).
        output_format: parquet or delta.
        mode: event-time (latest snapshot at ts) or as-known (what was served at ts).
        overwrite: replace an existing output instead of refusing.
        feature_service: the service the features came from, if any (for the manifest).
        keep_spine_order: write the rows in the spine's row order (one more shuffle and
            sort of the output; without it the order is Spark's, like any Spark join).
    """

    spine: Path
    spine_format: str
    timestamp_column: str
    features: tuple[FeatureRef, ...]
    output: Path
    output_format: str = "parquet"
    mode: Mode = "event-time"
    overwrite: bool = False
    feature_service: str | None = None
    keep_spine_order: bool = False


@dataclass(frozen=True)
class ViewRequest:
    """The features requested from one view, with their output column names."""

    view: FeatureView
    features: tuple[str, ...]

    def column(self, feature: str) -> str:
        """Output column of one of this view's features."""
        return f"{self.view.name}{SEPARATOR}{feature}"

    @property
    def status_column(self) -> str:
        """Output column holding PRESENT / MISSING / STALE."""
        return f"{self.view.name}{SEPARATOR}status"

    @property
    def feature_ts_column(self) -> str:
        """Output column holding the ``feature_ts`` of the snapshot used (null if none)."""
        return f"{self.view.name}{SEPARATOR}feature_ts"


def resolve_features(
    registry: Registry, refs: Sequence[str] | None, service: str | None
) -> tuple[tuple[FeatureRef, ...], str | None]:
    """Turn ``--features`` or ``--feature-service`` into checked references.

    Raises:
        TrainingSetError: both or neither given, an unknown view/feature/service, or a
            feature requested twice.
    """
    if (refs is None) == (service is None):
        raise TrainingSetError(
            "give exactly one of --features view:feature,... or --feature-service"
        )
    try:
        if service is not None:
            resolved = registry.resolve(registry.service(service).features)
        else:
            assert refs is not None  # checked above
            resolved = registry.resolve([r for r in refs if r.strip()])
    except DefinitionError as exc:
        raise TrainingSetError(str(exc)) from None
    seen: set[FeatureRef] = set()
    for ref in resolved:
        if ref in seen:
            raise TrainingSetError(f"feature {ref} is requested twice; list it once")
        seen.add(ref)
    return tuple(resolved), service


def group_by_view(registry: Registry, refs: Sequence[FeatureRef]) -> list[ViewRequest]:
    """Group references by view, keeping the order in which views and features appear."""
    order: dict[str, list[str]] = {}
    for ref in refs:
        order.setdefault(ref.view, []).append(ref.feature)
    return [ViewRequest(registry.view(name), tuple(feats)) for name, feats in order.items()]


def output_columns(spine_columns: Sequence[str], views: Sequence[ViewRequest]) -> list[str]:
    """Every output column in order: the spine's, the features, then status + feature_ts."""
    columns = list(spine_columns)
    columns += [v.column(f) for v in views for f in v.features]
    for v in views:
        columns += [v.status_column, v.feature_ts_column]
    return columns


def check_output_names(spine_columns: Sequence[str], views: Sequence[ViewRequest]) -> None:
    """Refuse a spine whose columns would collide with the columns the join adds."""
    added = output_columns([], views)
    clash = sorted(set(spine_columns) & set(added))
    if clash:
        raise TrainingSetError(
            f"spine column {clash[0]!r} collides with an output column of the training set; "
            "rename it in the spine"
        )


def key_types(views: list[ViewRequest]) -> dict[str, str]:
    """Every entity key the views need, with its type; the views must agree on types."""
    types: dict[str, str] = {}
    for view in views:
        for key, logical in view.view.entity.join_keys.items():
            if types.setdefault(key, logical) != logical:
                raise TrainingSetError(
                    f"views disagree on the type of key {key!r} ({types[key]} vs {logical} in "
                    f"{view.view.name}); request them in separate training sets"
                )
    return types

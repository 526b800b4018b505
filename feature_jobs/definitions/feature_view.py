"""FeatureView: features of one entity computed from one source at one cadence."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from feature_jobs.definitions.entity import Entity
from feature_jobs.definitions.feature import DerivedColumn, Feature
from feature_jobs.definitions.source import Source
from feature_jobs.definitions.types import (
    RESERVED_COLUMNS,
    check_name,
    format_duration,
    parse_duration,
)
from feature_jobs.errors import DefinitionError

Cadence = Literal["daily", "hourly"]
OnStale = Literal["default", "reject", "serve"]
CADENCES: dict[str, timedelta] = {"daily": timedelta(days=1), "hourly": timedelta(hours=1)}


@dataclass(frozen=True, kw_only=True)
class FeatureView:
    """Features of one entity, aggregated from one source, materialized at one cadence.

    Args:
        name: view name; also the name of its Delta table ``offline/<name>``.
        entity: the entity whose join keys the source carries.
        source: the raw events.
        features: the aggregations, each with its own window.
        cadence: "daily" (snapshot at the next 00:00 UTC) or "hourly".
        max_age: how old a snapshot may be before its values are STALE.
        on_stale: what a stale read gets: "default" values, "reject" (no values),
            or "serve" (the stale values, flagged STALE).
        filter: row-level Spark SQL predicate applied to the source for this view.
        derived_columns: row-level columns computed before aggregation.
        owner: who answers for this view (an email or a team).
        description, tags: for humans and catalogs; they do not change the version.
        checks: batch-level validation thresholds (see the validation gate).
    """

    name: str
    entity: Entity
    source: Source
    features: Sequence[Feature]
    owner: str
    cadence: Cadence = "daily"
    max_age: timedelta | str = "2d"
    on_stale: OnStale = "default"
    filter: str | None = None
    derived_columns: Sequence[DerivedColumn] = ()
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    checks: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"feature view {self.name}"
        check_name("feature view", self.name)
        if self.cadence not in CADENCES:
            raise DefinitionError(f"{where}: cadence {self.cadence!r}; use 'daily' or 'hourly'")
        if self.on_stale not in ("default", "reject", "serve"):
            raise DefinitionError(
                f"{where}: on_stale {self.on_stale!r}; use 'default', 'reject' or 'serve'"
            )
        if not self.owner:
            raise DefinitionError(f"{where}: owner is empty; name the team or person")
        object.__setattr__(self, "max_age", parse_duration(self.max_age, f"{where}: max_age"))
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "derived_columns", tuple(self.derived_columns))
        object.__setattr__(self, "tags", dict(self.tags))
        object.__setattr__(self, "checks", dict(self.checks))
        if not self.features:
            raise DefinitionError(f"{where}: features is empty; declare at least one")
        self._check_columns(where)

    def _check_columns(self, where: str) -> None:
        schema = self.source.schema
        for key, dtype in self.entity.join_keys.items():
            if key not in schema:
                raise DefinitionError(
                    f"{where}: entity key {key!r} is not a column of source {self.source.name}"
                )
            if schema[key] != dtype:
                raise DefinitionError(
                    f"{where}: entity key {key!r} is {dtype} in entity {self.entity.name} "
                    f"but {schema[key]} in source {self.source.name}; make them agree"
                )
        columns = dict(schema)
        for derived in self.derived_columns:
            if derived.name in columns:
                raise DefinitionError(
                    f"{where}: derived column {derived.name!r} shadows a source column"
                )
            columns[derived.name] = derived.dtype
        seen: set[str] = set()
        for feature in self.features:
            if feature.name in seen:
                raise DefinitionError(f"{where}: duplicate feature name {feature.name!r}")
            seen.add(feature.name)
            if feature.name in self.entity.join_keys or feature.name in RESERVED_COLUMNS:
                raise DefinitionError(
                    f"{where}: feature {feature.name!r} collides with a key or reserved column"
                )
            if feature.column is not None and feature.column not in columns:
                raise DefinitionError(
                    f"{where}: feature {feature.name}: unknown column {feature.column!r}; "
                    f"known: {', '.join(columns)}"
                )
            feature.check_input_type(self.input_type(feature.name), where)
            feature.check_default(self.output_type(feature.name), where)
            if self.cadence == "daily" and feature.window_delta % timedelta(days=1):
                raise DefinitionError(
                    f"{where}: feature {feature.name}: window "
                    f"{format_duration(feature.window_delta)} is not whole days; a daily "
                    "view needs windows like '1d' or '7d' (or use cadence='hourly')"
                )

    # -- derived facts -----------------------------------------------------------------

    @property
    def max_age_delta(self) -> timedelta:
        """``max_age`` as a timedelta (normalized in ``__post_init__``)."""
        assert isinstance(self.max_age, timedelta)
        return self.max_age

    @property
    def cadence_delta(self) -> timedelta:
        """Time between two snapshots."""
        return CADENCES[self.cadence]

    @property
    def longest_window(self) -> timedelta:
        """The widest window: only events in ``[C - longest_window, C)`` can matter."""
        return max(feature.window_delta for feature in self.features)

    @property
    def keys(self) -> tuple[str, ...]:
        """Entity join keys, in order."""
        return self.entity.keys

    def feature(self, name: str) -> Feature:
        """The feature called ``name``; DefinitionError if there is none."""
        for feature in self.features:
            if feature.name == name:
                return feature
        raise DefinitionError(
            f"feature view {self.name} has no feature {name!r}; known: "
            f"{', '.join(f.name for f in self.features)}"
        )

    def input_type(self, feature_name: str) -> str | None:
        """Logical type of what a feature aggregates (None for a bare count)."""
        feature = self.feature(feature_name)
        if feature.dtype is not None:
            return feature.dtype
        if feature.column is None:
            return None
        for derived in self.derived_columns:
            if derived.name == feature.column:
                return derived.dtype
        return self.source.schema[feature.column]

    def output_type(self, feature_name: str) -> str:
        """Logical type of a feature's value in snapshots and online reads."""
        feature = self.feature(feature_name)
        return feature.output_type(self.input_type(feature_name))

    @property
    def version(self) -> str:
        """Content hash of everything that changes the values this view yields.

        Owner, description and tags are left out: editing them is not a new version.
        """
        payload = json.dumps(self._value_fingerprint(), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def _value_fingerprint(self) -> dict[str, Any]:
        source = self.source
        return {
            "entity_keys": list(self.entity.join_keys.items()),
            "source": {
                "path": source.path,
                "table": source.table,
                "format": source.format,
                "schema": sorted(source.schema.items()),
                "timestamp_column": source.timestamp_column,
                "ingestion_timestamp_column": source.ingestion_timestamp_column,
                "dedup_key": list(source.dedup_key),
                "filter": source.filter,
                "naive_timestamps": source.naive_timestamps,
            },
            "cadence": self.cadence,
            "max_age": self.max_age_delta.total_seconds(),
            "on_stale": self.on_stale,
            "filter": self.filter,
            "derived": [(d.name, d.expression, d.dtype) for d in self.derived_columns],
            "features": [
                (
                    f.name,
                    f.function,
                    f.window_delta.total_seconds(),
                    f.column,
                    f.expression,
                    f.filter,
                    repr(f.default),
                    f.dtype,
                    # A count of an input counts its non-null values (it counted rows
                    # before): such views get a new version, the others keep theirs.
                    *(("non_null",) if f.function == "count" and f.input_named else ()),
                )
                for f in self.features
            ],
        }

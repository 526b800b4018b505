"""What an online read returns: per entity and feature, a value, a status and its snapshot."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feature_jobs.serving_rule import Status


@dataclass(frozen=True)
class FeatureValue:
    """One served value.

    Attributes:
        value: the feature value, or its default (None when there is none or on reject).
        status: PRESENT (fresh snapshot, entity in it), MISSING (no snapshot, or entity not
            in it: defaults) or STALE (snapshot older than max_age: see the view's on_stale).
        feature_ts: time of the snapshot consulted; None before a view's first publish.
    """

    value: Any
    status: Status
    feature_ts: datetime | None


@dataclass(frozen=True)
class OnlineResponse:
    """The result of ``get_online_features``: one row per requested entity.

    ``values[i][j]``, ``statuses[i][j]`` and ``feature_ts[i][j]`` belong to entity row
    ``i`` and feature ``features[j]`` (``"view:feature"``).
    """

    features: tuple[str, ...]
    entities: Sequence[Mapping[str, Any]]
    values: list[list[Any]]
    statuses: list[list[Status]]
    feature_ts: list[list[datetime | None]]

    def __len__(self) -> int:
        return len(self.values)

    def get(self, row: int, feature: str) -> FeatureValue:
        """The served value of ``feature`` for entity row ``row``."""
        j = self.features.index(feature)
        return FeatureValue(self.values[row][j], self.statuses[row][j], self.feature_ts[row][j])

    def rows(self) -> list[dict[str, Any]]:
        """Each entity row with its feature values added under their ``view:feature`` names."""
        return [
            {**entity, **dict(zip(self.features, values, strict=True))}
            for entity, values in zip(self.entities, self.values, strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the HTTP response body); times are ISO-8601 UTC strings."""
        return self._body(_json_values)

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON text, built for speed (the HTTP server's path).

        Values go to the encoder untouched (one C call instead of a Python call per value,
        a third of a 100-entity request's time); only when the encoder refuses them - NaN,
        infinity, a timestamp value - is the body rebuilt value by value as in
        :meth:`to_dict`, so the text is the same either way.
        """
        try:
            return json.dumps(self._body(list), allow_nan=False, **_COMPACT)
        except (ValueError, TypeError):
            return json.dumps(self.to_dict(), **_COMPACT)

    def _body(self, convert: Callable[[list[Any]], list[Any]]) -> dict[str, Any]:
        # The features of one view share a snapshot time, so a row's times repeat from
        # entity to entity: render each distinct tuple of them once.
        texts: dict[tuple[datetime | None, ...], list[str | None]] = {}
        results = []
        for entity, values, statuses, times in zip(
            self.entities, self.values, self.statuses, self.feature_ts, strict=True
        ):
            key = tuple(times)
            rendered = texts.get(key)
            if rendered is None:
                rendered = texts[key] = [None if t is None else _iso(t) for t in times]
            results.append(
                {
                    "entity": dict(entity),
                    "values": convert(values),
                    "statuses": [_STATUS_TEXT[s] for s in statuses],
                    "feature_ts": list(rendered),
                }
            )
        return {"features": list(self.features), "results": results}


_STATUS_TEXT = {status: status.value for status in Status}
_COMPACT: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":")}


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _json_values(values: list[Any]) -> list[Any]:
    return [_json_value(v) for v in values]


def _json_value(value: Any) -> Any:
    # JSON has no NaN or infinity: they travel as strings, as in protobuf's JSON mapping.
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, datetime):
        return _iso(value)
    return value

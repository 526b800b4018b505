"""An independent, brute-force oracle of feature-view snapshots, in plain Python.

Written from the README's "Time semantics" alone, never from the engine: it does not import
``feature_jobs.transform``/``materialize`` or Spark. It reads the definition only for names,
keys, windows, functions, columns and types; every Spark SQL expression goes through the
hand translations of :mod:`tests.oracle.translations`, and an expression without an exact
translation raises :class:`MissingTranslation`.

The snapshot of view V at time C, step by step:

1. Keep events with ``C - longest window <= event_ts < C`` (nothing older can matter).
2. Deduplicate by the source's ``dedup_key``: the delivery with the latest ingestion time
   wins (deliveries of one record are identical in the demo, so ties are immaterial;
   the first row read wins).
3. Apply the source filter and the view filter (SQL: only rows where it is TRUE).
4. Add the derived columns.
5. An entity is present when it has at least one remaining event; one row per entity.
6. Each feature sees the entity's events with ``C - W <= event_ts < C`` that pass its own
   filter. count counts them (or the non-NULL values of its column), count_distinct the
   distinct non-NULL values: both 0 when there are none. sum/avg/min/max ignore NULLs
   and are None without values. last is the value of the event with the greatest
   ``(event_ts, dedup key)``. Declared defaults are not applied: snapshots hold no-value
   as NULL and the readers fill defaults.

Doubles are summed with ``math.fsum`` (the exactly rounded sum), so compare them with the
engine's with a relative tolerance (1e-9 is ample): summation order differs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from feature_jobs.definitions import Feature, FeatureView, Source
from tests.oracle.translations import SOURCE_TRANSLATIONS, VIEW_TRANSLATIONS, Event, Translation

#: Pandas dtype of each logical type in the oracle's output (nullable: NULL is pd.NA).
PANDAS_DTYPES = {
    "string": "string",
    "long": "Int64",
    "double": "Float64",
    "boolean": "boolean",
    "timestamp": "datetime64[us, UTC]",
}


class MissingTranslation(Exception):
    """A definition uses an expression the oracle has no (or an outdated) translation for."""


def read_source(data_root: Path, source: Source) -> pd.DataFrame:
    """Read a path-based Parquet source (e.g. the demo's ``raw/transactions``) with pyarrow."""
    if source.path is None or source.format != "parquet":
        raise ValueError(f"oracle reads Parquet paths only; source {source.name} is not one")
    path = Path(source.path)
    return pq.read_table(path if path.is_absolute() else data_root / path).to_pandas()


def compute(view: FeatureView, transactions: pd.DataFrame, feature_ts: datetime) -> pd.DataFrame:
    """The snapshot of ``view`` at ``feature_ts`` from raw source rows, by brute force.

    Args:
        view: the feature view (its expressions must have translations).
        transactions: raw rows of the view's source, with the source's columns, duplicates
            and late rows included; timestamps tz-aware (naive ones only if the source
            declares ``naive_timestamps="utc"``).
        feature_ts: the snapshot time C, tz-aware.

    Returns:
        One row per present entity, sorted by the keys: key columns, then feature columns
        in declared order, with nullable dtypes (``Int64``, ``Float64``, ``string``...).
    """
    if feature_ts.tzinfo is None:
        raise ValueError(f"feature_ts {feature_ts} is naive; give it in UTC")
    c = feature_ts.astimezone(UTC)
    translations = _checked_translations(view)
    source = view.source
    events = _events_in_scope(source, transactions, c - view.longest_window, c)
    events = _deduplicate(source, events)
    for scope in ("source:filter", "filter"):
        if scope in translations:
            events = [e for e in events if translations[scope].fn(e) is True]
    for derived in view.derived_columns:
        fn = translations[f"derived:{derived.name}"].fn
        for event in events:
            event[derived.name] = fn(event)

    by_entity: dict[tuple[Any, ...], list[Event]] = {}
    for event in events:
        by_entity.setdefault(tuple(event[k] for k in view.keys), []).append(event)
    rows = []
    for entity in sorted(by_entity):
        row: dict[str, Any] = dict(zip(view.keys, entity, strict=True))
        for feature in view.features:
            row[feature.name] = _aggregate(view, feature, translations, by_entity[entity], c)
        rows.append(row)
    return _frame(view, rows)


def _checked_translations(view: FeatureView) -> dict[str, Translation]:
    """The view's translations, after checking they match its expressions one for one."""
    wanted: dict[str, str] = {}
    if view.filter is not None:
        wanted["filter"] = view.filter
    for derived in view.derived_columns:
        wanted[f"derived:{derived.name}"] = derived.expression
    for feature in view.features:
        if feature.filter is not None:
            wanted[f"filter:{feature.name}"] = feature.filter
        if feature.expression is not None:
            wanted[f"expression:{feature.name}"] = feature.expression
    known = dict(VIEW_TRANSLATIONS.get(view.name, {}))
    source_known = SOURCE_TRANSLATIONS.get(view.source.name, {})
    if view.source.filter is not None:
        wanted["source:filter"] = view.source.filter
    if "filter" in source_known:
        known["source:filter"] = source_known["filter"]
    for key in sorted(set(wanted) | set(known)):
        have = known.get(key)
        if have is None or key not in wanted or _normal(have.sql) != _normal(wanted[key]):
            raise MissingTranslation(
                f"view {view.name}: {key} is {wanted.get(key)!r} in the definition but "
                f"{have.sql if have else None!r} in tests/oracle/translations.py; "
                "update the translation by hand"
            )
    return known


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def _events_in_scope(
    source: Source, raw: pd.DataFrame, start: datetime, end: datetime
) -> list[Event]:
    """Rows with ``start <= event time < end`` as dicts of Python values (NULL is None)."""
    missing = [c for c in source.schema if c not in raw.columns]
    if missing:
        raise ValueError(f"source {source.name}: columns {missing} are missing")
    frame = raw[list(source.schema)].copy()
    for column, dtype in source.schema.items():
        if dtype == "timestamp":
            frame[column] = _utc_column(source, column, frame[column])
    ts = frame[source.timestamp_column]
    frame = frame[(ts >= start) & (ts < end)]
    records: list[Event] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return records


def _utc_column(source: Source, column: str, values: pd.Series) -> pd.Series:
    """Tz-aware values in UTC; naive ones only where the source declares them UTC."""
    values = pd.to_datetime(values)
    if values.dt.tz is None:
        if source.naive_timestamps != "utc":
            raise ValueError(f"source {source.name}: column {column} has naive timestamps")
        return values.dt.tz_localize("UTC")
    return values.dt.tz_convert("UTC")


def _deduplicate(source: Source, events: list[Event]) -> list[Event]:
    """Keep, per dedup key, the delivery ingested last (the first one read on a tie)."""
    if not source.dedup_key:
        return events
    ingested = source.ingestion_timestamp_column
    kept: dict[tuple[Any, ...], Event] = {}
    for event in events:
        key = tuple(event[k] for k in source.dedup_key)
        current = kept.get(key)
        if current is None or (ingested is not None and _later(event[ingested], current[ingested])):
            kept[key] = event
    return list(kept.values())


def _later(a: datetime | None, b: datetime | None) -> bool:
    """``a > b`` where NULL is older than any time."""
    return a is not None and (b is None or a > b)


def _aggregate(
    view: FeatureView,
    feature: Feature,
    translations: dict[str, Translation],
    events: list[Event],
    c: datetime,
) -> Any:
    """One feature of one entity from its (deduplicated, filtered, derived) events."""
    start = c - feature.window_delta
    ts_column = view.source.timestamp_column
    selected = [e for e in events if start <= e[ts_column] < c]
    if feature.filter is not None:
        keep = translations[f"filter:{feature.name}"].fn
        selected = [e for e in selected if keep(e) is True]
    if feature.function == "count" and feature.column is None and feature.expression is None:
        return len(selected)
    value_of = (
        translations[f"expression:{feature.name}"].fn
        if feature.expression is not None
        else (lambda e: e[feature.column])
    )
    if feature.function == "last":
        return _last(view.source, selected, value_of)
    values = [v for v in (value_of(e) for e in selected) if v is not None]
    return _reduce(feature.function, view.output_type(feature.name), values)


def _last(source: Source, events: list[Event], value_of: Any) -> Any:
    """Value of the latest event; equal times are ordered by the dedup key."""
    if not events:
        return None
    key_columns = [source.timestamp_column, *source.dedup_key]
    latest = max(events, key=lambda e: tuple(e[k] for k in key_columns))
    if not source.dedup_key:
        tied = {value_of(e) for e in events if e[source.timestamp_column] == latest[key_columns[0]]}
        if len(tied) > 1:
            raise MissingTranslation(f"source {source.name}: last is ambiguous without a key")
    return value_of(latest)


def _reduce(function: str, output_type: str, values: list[Any]) -> Any:
    if function == "count":
        return len(values)
    if function == "count_distinct":
        return len(set(values))
    if not values:
        return None
    if function == "sum":
        return math.fsum(values) if output_type == "double" else sum(values)
    if function == "avg":
        return math.fsum(values) / len(values)
    if function == "min":
        return min(values)
    if function == "max":
        return max(values)
    raise MissingTranslation(f"aggregation {function!r} has no oracle implementation")


def _frame(view: FeatureView, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    columns = [*view.keys, *(f.name for f in view.features)]
    frame = pd.DataFrame(list(rows), columns=columns, dtype=object)
    dtypes = {key: PANDAS_DTYPES[t] for key, t in view.entity.join_keys.items()}
    dtypes |= {f.name: PANDAS_DTYPES[view.output_type(f.name)] for f in view.features}
    return frame.astype(dtypes).reset_index(drop=True)

"""The training-set join as DuckDB SQL: the same four steps as the Spark engine, per view.

1. the view's instants: its snapshot times (event-time) or its publications (as-known);
2. the as-of lookup: each spine row gets the latest instant ``<= ts`` (``ASOF LEFT
   JOIN``; instants are unique, so no tie is left to chance);
3. a left equi-join on ``(keys, snapshot time)`` or ``(keys, publication)`` with the
   view's rows at the pinned Delta version(s);
4. the serving rule, rendered from :func:`feature_jobs.serving_rule.truth_table`.

Every time comparison is in epoch microseconds, as the Spark engine compares them. The
query returns the spine's row ordinal and the added columns, in spine order; the spine's
own columns are never sent through the joins. Feature defaults are bound parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.offline.delta_rs import VersionFiles
from feature_jobs.serving_rule import sql_fill_value, sql_outcome
from feature_jobs.training.publications import Publication, live_at_each_instant
from feature_jobs.training.request import ViewRequest

#: DuckDB's type for each logical type (as SPARK_TYPES gives Spark's).
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "long": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
}
assert SQL_TYPES.keys() == SPARK_TYPES.keys()

ORDINAL = "__skewless_ordinal"
TS_US = "__skewless_ts_us"
SPINE = "__skewless_spine"
#: Which columns a version's files hold (a feature added later is absent from older files).
PresentIn = Callable[[VersionFiles], set[str]]


@dataclass
class ViewRead:
    """What the local engine reads for one view."""

    request: ViewRequest
    files: VersionFiles | None = None  # event-time: the pinned version
    publications: list[Publication] = field(default_factory=list)  # as-known
    published: dict[int, VersionFiles] = field(default_factory=dict)  # as-known: by version
    latest: VersionFiles | None = None  # what a naive join would read (leakage)


@dataclass
class Query:
    """SQL text with its parameters and the Arrow tables it reads by name."""

    sql: str
    params: dict[str, Any]
    tables: dict[str, pa.Table]


def quote(name: str) -> str:
    """An identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A string literal."""
    return "'" + text.replace("'", "''") + "'"


def join_query(views: Sequence[ViewRead], present_in: PresentIn, ordered: bool) -> Query:
    """The query adding every view's columns to the spine table ``SPINE``.

    ``SPINE`` holds ``ORDINAL``, the entity keys (typed) and ``TS_US``; each event-time
    view ``i`` needs the table ``snaps<i>`` (:func:`snapshot_times_query`). The result
    holds ``ORDINAL`` and the added columns.

    Args:
        present_in: a version's files -> the columns at least one of them holds (a
            feature added later is null in older files, as Spark reads it).
        ordered: return the rows in spine order (a sort); else in DuckDB's order.
    """
    ctes: list[str] = []
    params: dict[str, Any] = {}
    tables: dict[str, pa.Table] = {}
    previous = SPINE
    for i, view in enumerate(views):
        if view.files is not None:
            step = _event_time(i, view, previous, present_in)
        else:
            step = _as_known(i, view, previous, present_in, tables)
        ctes += step
        previous = f"j{i}"
    outputs = [quote(ORDINAL)]
    finals = []
    for i, view in enumerate(views):
        request = view.request
        has_snapshot = f"__snap{i} IS NOT NULL"
        stale = f"coalesce({quote(TS_US)} - __snap{i} > {_max_age_us(request)}, FALSE)"
        present = f"coalesce(__present{i}, FALSE)"
        status, fill = sql_outcome(has_snapshot, stale, present, request.view.on_stale)
        finals.append(f"{status} AS __status{i}, {fill} AS __fill{i}")
        for j, feature in enumerate(request.features):
            sql_type = SQL_TYPES[request.view.output_type(feature)]
            name = f"d{i}_{j}"
            params[name] = request.view.feature(feature).effective_default()
            value = sql_fill_value(f"__fill{i}", f"__f{i}_{j}", f"${name}", sql_type)
            outputs.append(f"{value} AS {quote(request.column(feature))}")
    for i, view in enumerate(views):
        outputs.append(f"__status{i} AS {quote(view.request.status_column)}")
        # The snapshot time travels as µs; rendered once, at the end.
        snapshot_ts = f"CAST(make_timestamp(__snap{i}) AS TIMESTAMPTZ)"
        outputs.append(f"{snapshot_ts} AS {quote(view.request.feature_ts_column)}")
    ctes.append(f"ruled AS (SELECT *, {', '.join(finals)} FROM {previous})")
    order = f" ORDER BY {quote(ORDINAL)}" if ordered else ""
    sql = "WITH " + ",\n".join(ctes) + f"\nSELECT {', '.join(outputs)} FROM ruled{order}"
    return Query(sql, params, tables)


def snapshot_times_query(view: ViewRead) -> str:
    """The distinct snapshot times (µs, as ``t``) of an event-time view's pinned version.

    :func:`join_query` reads them as the table ``snaps<i>``.
    """
    assert view.files is not None
    if not view.files.files:
        return "SELECT CAST(NULL AS BIGINT) AS t WHERE FALSE"
    return f"SELECT DISTINCT epoch_us(feature_ts) AS t FROM {read_parquet_sql(view.files.files)}"


def latest_query(i: int, view: ViewRead) -> str:
    """Each entity's latest ``feature_ts`` (µs) in the version a naive join would read."""
    assert view.latest is not None and view.latest.files
    keys = view.request.view.keys
    renamed = ", ".join(f"{quote(k)} AS __lk{i}_{j}" for j, k in enumerate(keys))
    group = ", ".join(f"__lk{i}_{j}" for j in range(len(keys)))
    return (
        f"SELECT {renamed}, max(epoch_us(feature_ts)) AS __latest{i} "
        f"FROM {read_parquet_sql(view.latest.files)} GROUP BY {group}"
    )


def leakage_query(views: Sequence[ViewRead]) -> str:
    """Rows a naive latest-value join would fill from after their ts: any view, per view.

    Expects, per view ``i`` with a latest version, the table ``latest<i>`` of
    :func:`latest_query`. Returns one row: ``leak_any``, then ``leak_<i>`` per view (see
    :mod:`feature_jobs.training.leakage` for the meaning).
    """
    joins, flags = [], []
    for i, view in enumerate(views):
        keys = view.request.view.keys
        flag = "FALSE"
        if view.latest is not None and view.latest.files:
            on = " AND ".join(f"s.{quote(k)} = l{i}.__lk{i}_{j}" for j, k in enumerate(keys))
            joins.append(f"LEFT JOIN latest{i} l{i} ON {on}")
            flag = f"coalesce(l{i}.__latest{i} > s.{quote(TS_US)}, FALSE)"
        flags.append(flag)
    counts = [f"count_if({' OR '.join(flags) or 'FALSE'}) AS leak_any"]
    counts += [f"count_if({flag}) AS leak_{i}" for i, flag in enumerate(flags)]
    return f"SELECT {', '.join(counts)} FROM {SPINE} s {' '.join(joins)}"


def _event_time(i: int, view: ViewRead, previous: str, present_in: PresentIn) -> list[str]:
    request, files = view.request, view.files
    assert files is not None
    rows = _view_rows(i, view, files, present_in(files))
    return [
        f"off{i} AS ({rows})",
        # Step 1, the snapshot times of the pinned version, is the table snaps<i> of
        # snapshot_times_query. Step 2: the latest snapshot at or before each row's ts.
        f"a{i} AS (SELECT p.*, x.t AS __snap{i} FROM {previous} p "
        f"ASOF LEFT JOIN snaps{i} x ON p.{quote(TS_US)} >= x.t)",
        # Step 3: the entity's row in that snapshot.
        f"j{i} AS (SELECT a.*, {_features(i, request, 'r')}, r.__t{i} IS NOT NULL AS "
        f"__present{i} FROM a{i} a LEFT JOIN off{i} r ON {_on_keys(i, request)} "
        f"AND r.__t{i} = a.__snap{i})",
    ]


def _as_known(
    i: int, view: ViewRead, previous: str, present_in: PresentIn, tables: dict[str, pa.Table]
) -> list[str]:
    request = view.request
    features = _features(i, request, "r")
    if not view.publications:  # never published: every row MISSING, as online
        nulls = ", ".join(
            f"CAST(NULL AS {SQL_TYPES[request.view.output_type(f)]}) AS __f{i}_{j}"
            for j, f in enumerate(request.features)
        )
        return [
            f"j{i} AS (SELECT p.*, CAST(NULL AS BIGINT) AS __snap{i}, {nulls}, "
            f"FALSE AS __present{i} FROM {previous} p)"
        ]
    # Step 1: one publication per go-live instant (the tie rule), and every publication.
    live = live_at_each_instant(view.publications)
    tables[f"pubs{i}"] = pa.table(
        {
            "t": pa.array([p.live_us for p in live], pa.int64()),
            "seq": pa.array([p.seq for p in live], pa.int64()),
            "feature_us": pa.array([p.feature_us for p in live], pa.int64()),
        }
    )
    tables[f"allpubs{i}"] = pa.table(
        {
            "seq": pa.array([p.seq for p in view.publications], pa.int64()),
            "feature_us": pa.array([p.feature_us for p in view.publications], pa.int64()),
            "delta_version": pa.array([p.delta_version for p in view.publications], pa.int64()),
        }
    )
    # Step 3's right side: each publication's rows, from the version it was published from.
    parts = []
    for version in sorted(view.published):
        files = view.published[version]
        dates = {
            p.snapshot_date.isoformat() for p in view.publications if p.delta_version == version
        }
        kept = [
            f
            for f, d in zip(files.files, files.snapshot_dates, strict=True)
            if d is None or d in dates
        ]
        pruned = VersionFiles(
            files.path, version, tuple(kept), (None,) * len(kept), files.columns, 0
        )
        rows = _view_rows(i, view, pruned, present_in(files))
        parts.append(
            f"SELECT v.*, p.seq AS __seq{i} FROM ({rows}) v JOIN allpubs{i} p "
            f"ON p.delta_version = {version} AND v.__t{i} = p.feature_us"
        )
    return [
        f"pubrows{i} AS ({' UNION ALL '.join(parts)})",
        # Step 2: the publication live at each row's ts.
        f"a{i} AS (SELECT p.*, x.seq AS __pub{i}, x.feature_us AS __snap{i} "
        f"FROM {previous} p ASOF LEFT JOIN pubs{i} x ON p.{quote(TS_US)} >= x.t)",
        # Step 3: the entity's row in that publication.
        f"j{i} AS (SELECT a.* EXCLUDE (__pub{i}), {features}, r.__seq{i} IS NOT NULL AS "
        f"__present{i} FROM a{i} a LEFT JOIN pubrows{i} r ON {_on_keys(i, request)} "
        f"AND r.__seq{i} = a.__pub{i})",
    ]


def _view_rows(i: int, view: ViewRead, files: VersionFiles, present: set[str]) -> str:
    """The view's rows at one version: renamed keys, snapshot time, raw features."""
    request = view.request
    columns = [
        (quote(k), SQL_TYPES[t], f"__k{i}_{j}")
        for j, (k, t) in enumerate(request.view.entity.join_keys.items())
    ]
    columns += [("epoch_us(feature_ts)", "BIGINT", f"__t{i}")]
    for j, feature in enumerate(request.features):
        # A feature the version does not hold (added to the definition later) reads null.
        value = quote(feature) if feature in present else "NULL"
        columns.append((value, SQL_TYPES[request.view.output_type(feature)], f"__f{i}_{j}"))
    if not files.files:
        empty = ", ".join(f"CAST(NULL AS {kind}) AS {alias}" for _, kind, alias in columns)
        return f"SELECT {empty} WHERE FALSE"
    rendered = ", ".join(f"CAST({value} AS {kind}) AS {alias}" for value, kind, alias in columns)
    return f"SELECT {rendered} FROM {read_parquet_sql(files.files)}"


def read_parquet_sql(files: Sequence[str]) -> str:
    """DuckDB's scan of ``files``; a file lacking a column reads it as null."""
    listed = ", ".join(literal(f) for f in files)
    return f"read_parquet([{listed}], union_by_name = true)"


def _features(i: int, request: ViewRequest, alias: str) -> str:
    return ", ".join(f"{alias}.__f{i}_{j}" for j in range(len(request.features)))


def _on_keys(i: int, request: ViewRequest) -> str:
    return " AND ".join(f"r.__k{i}_{j} = a.{quote(k)}" for j, k in enumerate(request.view.keys))


def _max_age_us(request: ViewRequest) -> int:
    # Whole microseconds, as the Spark engine compares ages.
    return int(request.view.max_age_delta.total_seconds() * 1_000_000)

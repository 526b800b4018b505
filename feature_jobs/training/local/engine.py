"""Build a training set with the local engine: pin, check, join, write, manifest.

The same pipeline as :func:`feature_jobs.training.job.build_training_set`, and the same
outcome (:mod:`feature_jobs.training.outcome`): the versions are pinned by delta-rs,
the spine is checked in memory, DuckDB runs the join (:mod:`.join_sql`), and the rows
stream out in spine order, each batch hashed (the checksum of exactly what is written),
its statuses counted, and written to a hidden staging folder that is renamed into place
only when every check passed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from feature_jobs.definitions import Registry
from feature_jobs.errors import TrainingSetError
from feature_jobs.offline import delta_rs, sync_log_table, view_table
from feature_jobs.serving_rule import Status
from feature_jobs.settings import Settings
from feature_jobs.training import manifest as manifest_io
from feature_jobs.training.arrow_hash import hash_total, row_hashes
from feature_jobs.training.inputs import PinnedVersions
from feature_jobs.training.leakage import leak_report, with_future_rows
from feature_jobs.training.local.connection import connect
from feature_jobs.training.local.join_sql import (
    ORDINAL,
    SPINE,
    TS_US,
    ViewRead,
    join_query,
    latest_query,
    leakage_query,
    read_parquet_sql,
    snapshot_times_query,
)
from feature_jobs.training.local.spine import LocalSpine, check_spine, load_spine
from feature_jobs.training.outcome import (
    TrainingSetResult,
    check_definitions,
    check_rebuilt_checksum,
    check_rebuilt_fingerprint,
    check_row_count,
    manifest_document,
    render_checksum,
)
from feature_jobs.training.paths import (
    check_output,
    manifest_path,
    publish,
    remove,
    staging_path,
)
from feature_jobs.training.publications import LoggedPublish, order_publications
from feature_jobs.training.request import (
    TrainingSetRequest,
    ViewRequest,
    check_output_names,
    group_by_view,
    key_types,
    output_columns,
)

#: Rows per batch streamed out of DuckDB (hashed, counted and written one at a time).
BATCH_ROWS = 256 * 1024
_SYNC_LOG_COLUMNS = [
    "project",
    "view",
    "feature_ts",
    "snapshot_date",
    "delta_version",
    "live_at",
    "started_at",
    "definition_version",
    "run_id",
]


@dataclass
class Written:
    """What the writer saw go out."""

    rows: int
    hash_total: int
    status_counts: dict[str, dict[str, int]]
    future_rows: int  # rows holding a value from after their timestamp (0, or a defect)
    table: pa.Table | None = None  # the rows themselves, when kept in memory


def build_locally(
    settings: Settings,
    registry: Registry,
    request: TrainingSetRequest,
    pins: manifest_io.Pins | None = None,
    progress: Callable[[str], None] = lambda _: None,
    spine_rows: pa.Table | None = None,
    in_memory: bool = False,
) -> TrainingSetResult:
    """Build (or, with ``pins``, rebuild) the training set of ``request`` without Spark.

    Args:
        spine_rows: the spine already in memory, as read from ``request.spine`` (the
            notebook API saved it there): it is checked and fingerprinted, not re-read.
        in_memory: keep the rows in ``result.table`` and the manifest in
            ``result.document``; nothing is written (:func:`write_rows` writes them later).

    Raises:
        TrainingSetError: as the Spark engine does, with the same messages.
        LocalEngineRefused: an input only the Spark engine reads faithfully.
    """
    started = time.monotonic()
    views = group_by_view(registry, request.features)
    if pins is not None:
        check_definitions(views, pins)
    if not in_memory:
        check_output(request.output, request.overwrite, settings, [request.spine], registry)
    progress(f"reading spine {request.spine} ({request.spine_format})")
    if spine_rows is not None:
        spine = check_spine(
            spine_rows,
            request.spine,
            request.spine_format,
            request.timestamp_column,
            key_types(views),
        )
    else:
        spine = load_spine(
            request.spine, request.spine_format, request.timestamp_column, key_types(views)
        )
    check_output_names(spine.facts.columns, views)
    check_rebuilt_fingerprint(pins, spine.facts)
    progress(
        f"spine: {spine.facts.rows} rows, {len(spine.facts.columns)} columns, all checks passed"
    )
    reads, pinned = pin_reads(settings, request, views, pins)
    progress(f"inputs pinned: {pinned.describe()}")
    request.output.parent.mkdir(parents=True, exist_ok=True)
    staged = staging_path(request.output)
    spill = staged.with_name(staged.name + ".tmp")  # DuckDB's, beyond its memory limit
    try:
        con = connect(f"{settings.local_engine_memory // 1024**2}MB", str(spill))
        con.register(SPINE, _join_side(spine, views))
        naive = count_leakage(con, reads, spine.facts.rows)
        progress(f"joining {len(views)} view(s) ({request.mode}) and writing {request.output}")
        written = _write(con, spine, views, reads, request, None if in_memory else staged)
        rows = check_row_count(written.rows, spine.facts.rows)
        leakage = with_future_rows(naive, written.future_rows)
        progress(leakage["summary"])
        checksum = render_checksum(rows, written.hash_total)
        check_rebuilt_checksum(pins, checksum)
        seconds = round(time.monotonic() - started, 3)
        document = manifest_document(
            request,
            spine.facts,
            views,
            pinned,
            rows,
            checksum,
            written.status_counts,
            leakage,
            "local",
        )
        document["seconds"] = seconds
        con.close()
        remove(spill)
        if not in_memory:
            publish(staged, request.output, manifest_io.render(document))
    except BaseException:
        remove(staged)
        remove(spill)
        raise
    return TrainingSetResult(
        output=request.output,
        manifest=manifest_path(request.output),
        rows=rows,
        checksum=checksum,
        status_counts=written.status_counts,
        leakage=leakage,
        seconds=seconds,
        engine="local",
        document=document if in_memory else None,
        table=written.table,
    )


def pin_reads(
    settings: Settings,
    request: TrainingSetRequest,
    views: list[ViewRequest],
    pins: manifest_io.Pins | None,
) -> tuple[list[ViewRead], PinnedVersions]:
    """The versions to read, as :func:`feature_jobs.training.inputs.pin_inputs` pins them."""
    reads = [ViewRead(view) for view in views]
    offline: dict[str, tuple[str, int]] = {}
    sync_log = None
    pubs: dict[str, list[Any]] = {}
    # The version just found current cannot have been vacuumed; pinned (rebuild) and
    # published (as-known) versions may have been, so their files are checked.
    check_files = pins is not None or request.mode == "as-known"
    for read in reads:
        name = read.request.view.name
        path = view_table(settings, name)
        what = f"view {name}"
        if request.mode == "event-time":
            version = pins.view_versions[name] if pins else delta_rs.pin_version(path, what)
            offline[name] = (path, version)
            read.files = delta_rs.version_files(path, version, what, check_files)
            read.latest = read.files
            continue
        try:
            current = delta_rs.pin_version(path, what)
        except TrainingSetError as exc:
            if type(exc) is not TrainingSetError:
                raise  # a table the local engine cannot read: not "never materialized"
            continue  # never materialized: no leakage to count for it
        read.latest = delta_rs.version_files(path, current, what, check_files=False)
    if request.mode == "as-known":
        path = sync_log_table(settings)
        if pins is not None and pins.sync_log_version is not None:
            version = pins.sync_log_version
        else:
            version = delta_rs.pin_version(
                path, "sync log (as-known mode needs published snapshots)"
            )
        delta_rs.version_files(path, version, "sync log", check_files=True)
        table = delta_rs.read_table(path, version, _SYNC_LOG_COLUMNS)
        sync_log = (path, version)
        for read in reads:
            name = read.request.view.name
            read.publications = _publications(table, settings.project, name)
            pubs[name] = read.publications
            for published in sorted({p.delta_version for p in read.publications}):
                read.published[published] = delta_rs.version_files(
                    view_table(settings, name), published, f"view {name}", check_files=True
                )
    return reads, PinnedVersions(request.mode, offline, sync_log, pubs)


def count_leakage(con: Any, reads: list[ViewRead], rows: int) -> dict[str, Any]:
    """The leakage report (:mod:`feature_jobs.training.leakage`), in one query."""
    counted = [read for read in reads if read.latest is not None]
    for i, read in enumerate(counted):
        if read.latest is not None and read.latest.files:
            con.register(f"latest{i}", _latest_per_entity(con, i, read))
    (result,) = con.sql(leakage_query(counted)).fetchall()
    names = ["leak_any"] + [f"leak_{i}" for i in range(len(counted))]
    return leak_report(dict(zip(names, result, strict=True)), rows, [r.request for r in counted])


#: Each entity's latest snapshot time, and a view's snapshot times, per table version (its
#: data files, whose names are unique: a table deleted and written again is another key).
#: A version never changes, so a notebook's next call reuses them instead of a scan.
_LATEST: dict[tuple[tuple[str, ...], tuple[str, ...], int], pa.Table] = {}
_SNAPSHOT_TIMES: dict[tuple[str, ...], pa.Table] = {}
_PRESENT: dict[tuple[str, ...], set[str]] = {}  # the columns a version's files hold
_KEPT = 16
K = TypeVar("K")
V = TypeVar("V")


def register_snapshot_times(con: Any, reads: list[ViewRead]) -> None:
    """Register ``snaps<i>`` for every event-time view (step 1 of :mod:`.join_sql`)."""
    for i, read in enumerate(reads):
        if read.files is not None:
            con.register(f"snaps{i}", _snapshot_times(con, read))


def _snapshot_times(con: Any, read: ViewRead) -> pa.Table:
    assert read.files is not None
    query = snapshot_times_query(read)
    return _remember(_SNAPSHOT_TIMES, read.files.files, lambda: con.sql(query).to_arrow_table())


def _latest_per_entity(con: Any, i: int, read: ViewRead) -> pa.Table:
    assert read.latest is not None
    key = (read.latest.files, read.request.view.keys, i)
    return _remember(_LATEST, key, lambda: con.sql(latest_query(i, read)).to_arrow_table())


def _remember(cache: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """``cache[key]``, made on first use; the oldest entry goes beyond ``_KEPT``."""
    if key not in cache:
        if len(cache) >= _KEPT:
            cache.pop(next(iter(cache)))
        cache[key] = make()
    return cache[key]


def _publications(log: pa.Table, project: str, view: str) -> list[Any]:
    mask = pc.and_(
        pc.and_(pc.equal(log["project"], project), pc.equal(log["view"], view)),
        pc.is_valid(log["live_at"]),
    )
    rows = log.filter(mask)

    def micros(name: str) -> list[int | None]:
        return rows[name].cast(pa.int64()).to_pylist()

    started = [0 if s is None else s for s in micros("started_at")]
    return order_publications(
        LoggedPublish(f, d, int(v), live, s, str(dv), str(run))
        for f, d, v, live, s, dv, run in zip(
            micros("feature_ts"),
            rows["snapshot_date"].to_pylist(),
            rows["delta_version"].to_pylist(),
            micros("live_at"),
            started,
            rows["definition_version"].to_pylist(),
            rows["run_id"].to_pylist(),
            strict=True,
        )
    )


def _join_side(spine: LocalSpine, views: list[ViewRequest]) -> pa.Table:
    """What the joins need of the spine: the row ordinal, the keys, the time in µs."""
    keys = list(dict.fromkeys(k for view in views for k in view.view.keys))
    table = spine.table
    ts = table[spine.facts.timestamp_column].cast(pa.int64())
    ordinals = np.arange(table.num_rows, dtype=np.int64)
    # From the buffer: pa.array() would import pandas (0.3 s) to rule it out.
    ordinal = pa.Array.from_buffers(pa.int64(), len(ordinals), [None, pa.py_buffer(ordinals)])
    columns = [ordinal, *[table[k] for k in keys], ts]
    return pa.Table.from_arrays(columns, names=[ORDINAL, *keys, TS_US])


def _write(
    con: Any,
    spine: LocalSpine,
    views: list[ViewRequest],
    reads: list[ViewRead],
    request: TrainingSetRequest,
    staged: Path | None,
) -> Written:
    """Stream the joined rows into ``staged`` (or, if None, keep them), tallied."""

    def present_in(files: delta_rs.VersionFiles) -> set[str]:
        return _remember(_PRESENT, files.files, lambda: _columns_in_files(con, files))

    register_snapshot_times(con, reads)
    query = join_query(reads, present_in, ordered=request.keep_spine_order)
    for name, table in query.tables.items():
        con.register(name, table)
    reader = con.sql(query.sql, params=query.params).to_arrow_reader(BATCH_ROWS)
    columns = output_columns(spine.facts.columns, views)
    counts = {view.view.name: dict.fromkeys((s.value for s in Status), 0) for view in views}
    rows = future_rows = 0
    # Hashing is numpy work that releases the GIL: it runs beside the reading and writing.
    hashing = ThreadPoolExecutor(max_workers=2)
    hashes: list[Future[np.ndarray]] = []

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal rows, future_rows
        for batch in reader:
            rows += batch.num_rows
            if rows > spine.table.num_rows:
                # An entity twice in one snapshot: count every row for the message; the
                # staged output is discarded.
                rows += sum(rest.num_rows for rest in reader)
                check_row_count(rows, spine.table.num_rows)
            # The spine's own columns never went through the joins: taken by ordinal.
            carried = spine.table.take(batch.column(0))
            arrays = [c.combine_chunks() for c in carried.columns] + batch.columns[1:]
            out = pa.RecordBatch.from_arrays(arrays, names=columns)
            for half in _halves(out):
                hashes.append(hashing.submit(row_hashes, half, columns))
            for view in views:
                for entry in pc.value_counts(out.column(view.status_column)).to_pylist():
                    counts[view.view.name][entry["values"]] += entry["counts"]
            future_rows += _rows_using_future_values(out, spine.facts.timestamp_column, views)
            yield out

    schema = _output_schema(spine, reader.schema, columns)
    table = None
    try:
        if staged is None:
            table = pa.Table.from_batches(list(batches()), schema=schema)
        else:
            write_rows(schema, batches(), request.output_format, staged)
        total = sum(hash_total(h.result()) for h in hashes)
    finally:
        hashing.shutdown(cancel_futures=True)
    return Written(rows, total, counts, future_rows, table)


def _rows_using_future_values(out: pa.RecordBatch, ts_column: str, views: list[ViewRequest]) -> int:
    """Rows holding any view's ``feature_ts`` after their timestamp (both µs, UTC)."""
    ts = out.column(ts_column).cast(pa.int64())
    after = None
    for view in views:
        later = pc.greater(out.column(view.feature_ts_column).cast(pa.int64()), ts)
        # Kleene OR: a null (MISSING) side does not hide a true one; the sum skips nulls.
        after = later if after is None else pc.or_kleene(after, later)
    return 0 if after is None else int(pc.sum(after.cast(pa.int64())).as_py() or 0)


def write_rows(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], output_format: str, folder: Path
) -> None:
    """Write rows as a training set's files: one Parquet file in ``folder``, or a Delta table."""
    if output_format == "delta":
        from deltalake import write_deltalake

        stream = pa.RecordBatchReader.from_batches(schema, iter(batches))
        write_deltalake(str(folder), stream, mode="error")
        return
    folder.mkdir(parents=True)
    part = folder / f"part-00000-{uuid.uuid4()}-c000.snappy.parquet"
    # Dictionary pages only where they pay: text (statuses); numbers are random.
    text = [f.name for f in schema if pa.types.is_string(f.type)]
    with pq.ParquetWriter(part, schema, compression="snappy", use_dictionary=text) as out:
        for batch in batches:
            out.write_batch(batch)


def _halves(batch: pa.RecordBatch) -> list[pa.RecordBatch]:
    middle = batch.num_rows // 2
    return [batch.slice(0, middle), batch.slice(middle)]


def _output_schema(spine: LocalSpine, joined: pa.Schema, columns: list[str]) -> pa.Schema:
    fields = [*spine.table.schema, *list(joined)[1:]]
    return pa.schema([f.with_name(name) for f, name in zip(fields, columns, strict=True)])


def _columns_in_files(con: Any, files: delta_rs.VersionFiles) -> set[str]:
    """Columns of the version's schema that at least one of its files holds."""
    if not files.files:
        return set()
    described = con.sql(f"DESCRIBE SELECT * FROM {read_parquet_sql(files.files)}").fetchall()
    return {row[0] for row in described} & set(files.columns)

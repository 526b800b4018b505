"""Publish rows through the real publish steps without Spark (for serving-side tests).

The same register -> write_batch -> go_live sequence the executors and driver run, from
the test process, so HTTP and SDK tests do not pay for a Spark job per test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from feature_jobs.definitions import FeatureView
from feature_jobs.online.codec import RowCodec, datetime_to_micros
from feature_jobs.online.connection import Client
from feature_jobs.online.keys import bucket_count, data_prefix, encode_entity, new_token
from feature_jobs.online.publish import SnapshotMeta, go_live, register
from feature_jobs.online.writer import write_batch


def publish_rows(
    client: Client,
    project: str,
    view: FeatureView,
    feature_ts: datetime,
    rows: Sequence[Mapping[str, Any]],
    delta_version: int = 1,
) -> str:
    """Make ``rows`` the live snapshot of ``view``; return its token."""
    columns = tuple(f.name for f in view.features)
    types = tuple(view.output_type(c) for c in columns)
    meta = SnapshotMeta(
        token=new_token(feature_ts), feature_ts=feature_ts,
        snapshot_date=(feature_ts - timedelta(days=1)).date(), buckets=bucket_count(len(rows)),
        columns=columns, types=types, delta_version=delta_version,
        definition_version=view.version, run_id="direct", rows=len(rows),
        started_at=datetime.now(UTC),
    )  # fmt: skip
    ttl = timedelta(hours=1)
    register(client, project, view.name, meta, ttl)
    fields = [encode_entity([row[k] for k in view.keys]) for row in rows]
    arrow_types = {"double": pa.float64(), "long": pa.int64(), "timestamp": pa.int64(),
                   "boolean": pa.bool_(), "string": pa.string()}  # fmt: skip
    columns = [
        pa.array(
            [
                datetime_to_micros(row[c]) if t == "timestamp" and row.get(c) else row.get(c)
                for row in rows
            ],
            type=arrow_types[t],
        )
        for c, t in zip(columns, types, strict=True)
    ]
    values = RowCodec.for_types(types).encode(columns)
    prefix = data_prefix(project, view.name, meta.token)
    write_batch(client, prefix, meta.buckets, fields, values, 3_600_000)
    assert go_live(client, project, view.name, meta.token, ttl).status == "ok"
    return meta.token

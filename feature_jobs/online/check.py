"""Consistency check: does Redis serve exactly what the Delta snapshot holds?

After a sync, sample entities from the offline snapshot (all of them when there are
fewer than the sample size), read their stored values from the live snapshot in Redis,
and compare every value exactly (same type, same bits; NaN equals NaN). The live
snapshot's entity count (sum of its bucket sizes) must equal the offline row count too,
which catches stray entities a sample of Delta cannot see. Above the threshold an alert
is sent.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from feature_jobs.definitions import FeatureView
from feature_jobs.offline import (
    OfflineSnapshot,
    open_snapshot,
    require_publishable,
    snapshot_stats,
)
from feature_jobs.online.codec import RowCodec
from feature_jobs.online.connection import Client, connect, online_url, redis_errors
from feature_jobs.online.keys import data_prefix, encode_entity, live_key, read_argument
from feature_jobs.online.publish import LivePointer, read_live
from feature_jobs.online.store import READ
from feature_jobs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import Row, SparkSession

_EXAMPLES = 5


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a consistency check.

    Attributes:
        checked: False when a newer snapshot is live (nothing of this date to compare).
        sampled: entities compared; mismatches: how many differ (absent ones included).
        rate: mismatches / sampled (1.0 when the date was never published).
        passed: rate <= threshold and the entity counts agree.
        examples: a few mismatches, described for humans.
    """

    view: str
    snapshot_date: date
    feature_ts: datetime
    checked: bool
    sampled: int
    mismatches: int
    rate: float
    offline_rows: int
    online_rows: int | None
    passed: bool
    message: str
    examples: list[str] = field(default_factory=list)


def check(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    day: date,
    *,
    sample: int = 1000,
    threshold: float = 0.0,
    seed: int = 7,
) -> CheckResult:
    """Compare ``sample`` entities of the ``day`` snapshot between Delta and Redis.

    Args:
        spark: the session.
        settings: locations, project and ``REDIS_URL``.
        view: the feature view.
        day: the logical date whose snapshot was synced.
        sample: entities to compare (all when the snapshot has fewer).
        threshold: highest mismatch rate that still passes (0.0: any mismatch fails).
        seed: sampling seed, so a re-run compares the same entities.
    """
    snapshot = open_snapshot(spark, settings, view, day)
    stats = snapshot_stats(snapshot)
    require_publishable(view, day, snapshot.delta_version, stats.rows, stats.definition_versions)
    offline_rows = stats.rows
    url = online_url(settings)
    with redis_errors(url):
        client = connect(url)
        live = read_live(client, settings.project, view.name)
        make = partial(CheckResult, view.name, day, snapshot.feature_ts)
        if live is not None and live.meta.feature_ts > snapshot.feature_ts:
            return make(
                checked=False, sampled=0, mismatches=0, rate=0.0,
                offline_rows=offline_rows, online_rows=None, passed=True,
                message=f"a newer snapshot ({live.meta.feature_ts.isoformat()}) is live; "
                "this date is not served, nothing to compare",
            )  # fmt: skip
        rows = _sample(snapshot, offline_rows, view, sample, seed)
        if live is None or live.meta.feature_ts != snapshot.feature_ts:
            served = "nothing" if live is None else live.meta.feature_ts.isoformat()
            return make(
                checked=True, sampled=len(rows), mismatches=len(rows), rate=1.0,
                offline_rows=offline_rows, online_rows=None, passed=False,
                message=f"the {day} snapshot is not published (Redis serves {served}); "
                "run sync for it",
            )  # fmt: skip
        online_rows = _count_online(client, settings.project, view.name, live)
        mismatches, examples = _compare(client, settings, view, live, rows)
    rate = mismatches / len(rows) if rows else 0.0
    counts_agree = online_rows == offline_rows
    passed = rate <= threshold and counts_agree
    message = f"{mismatches}/{len(rows)} sampled entities differ ({rate:.2%})"
    if not counts_agree:
        message += f"; Redis holds {online_rows} entities, Delta {offline_rows}"
    return make(
        checked=True, sampled=len(rows), mismatches=mismatches, rate=rate,
        offline_rows=offline_rows, online_rows=online_rows, passed=passed, message=message,
        examples=examples,
    )  # fmt: skip


def _sample(
    snapshot: OfflineSnapshot, rows: int, view: FeatureView, size: int, seed: int
) -> list[Row]:
    from pyspark.sql import functions as F

    # Timestamps are compared as epoch microseconds, as Redis stores them.
    columns = [
        F.unix_micros(name).alias(name) if view.output_type(name) == "timestamp" else F.col(name)
        for name in (f.name for f in view.features)
    ]
    frame = snapshot.frame.select(*view.keys, *columns)
    if rows > size:
        fraction = min(1.0, 1.5 * size / rows)
        frame = frame.sample(fraction=fraction, seed=seed).limit(size)
    return frame.collect()  # a bounded sample, never the whole table


def _count_online(client: Client, project: str, view: str, live: LivePointer) -> int:
    prefix = data_prefix(project, view, live.meta.token)
    total = 0
    pipe = client.pipeline(transaction=False)
    for bucket in range(live.meta.buckets):
        pipe.hlen(f"{prefix}{bucket}")
        if len(pipe) >= 5000:
            total += sum(pipe.execute())
    return total + sum(pipe.execute())


def _compare(
    client: Client, settings: Settings, view: FeatureView, live: LivePointer, rows: list[Row]
) -> tuple[int, list[str]]:
    fields = [encode_entity([row[k] for k in view.keys]) for row in rows]
    read = client.register_script(READ)
    pointer = live_key(settings.project, view.name)
    reply = read(keys=[pointer], args=[read_argument(fields)])[0]
    token, _, schema_raw, presence, joined = reply
    if token is None or token.decode() != live.meta.token:
        # The pointer moved between the two reads: compare against the new one next time.
        return len(rows), ["the live snapshot changed during the check; re-run it"]
    schema = json.loads(schema_raw)
    columns = schema["cols"]
    # Timestamps are compared as epoch microseconds, as the sample holds them.
    codec = RowCodec.from_schema(["long" if t == "timestamp" else t for t in schema["types"]],
                                 schema.get("enc", "json"))  # fmt: skip
    mismatches, examples = 0, list[str]()
    for row, stored in zip(rows, codec.decode(presence, joined), strict=True):
        entity = {k: row[k] for k in view.keys}
        if stored is None:
            problem = "absent from Redis"
        else:
            served = dict(zip(columns, stored, strict=True))
            wrong = [
                f"{f.name}: Delta {row[f.name]!r} != Redis {served.get(f.name)!r}"
                for f in view.features
                if not _same(row[f.name], served.get(f.name))
            ]
            problem = "; ".join(wrong)
        if problem:
            mismatches += 1
            if len(examples) < _EXAMPLES:
                examples.append(f"{entity}: {problem}")
    return mismatches, examples


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return type(a) is type(b) and a == b


def send_check_alert(settings: Settings, result: CheckResult, run_id: str | None = None) -> None:
    """Alert through the configured channels that Redis and Delta disagree."""
    from feature_jobs.alerts import Alert, AlertCheck, send_alert

    send_alert(
        settings,
        Alert(
            kind="online.consistency_failed",
            title=f"online store disagrees with Delta for {result.view} on "
            f"{result.snapshot_date}: {result.message}",
            message="Redis does not serve what the offline snapshot holds; re-run "
            f"`python -m feature_jobs sync --view {result.view} --date {result.snapshot_date}`"
            " and check again. Examples: " + " | ".join(result.examples),
            view=result.view,
            snapshot_date=result.snapshot_date.isoformat(),
            run_id=run_id,
            checks=[
                AlertCheck(
                    check="online_consistency",
                    failing_rows=result.mismatches,
                    total_rows=result.sampled,
                    detail=f"online rows {result.online_rows}, offline rows {result.offline_rows}",
                )
            ],
        ),
    )

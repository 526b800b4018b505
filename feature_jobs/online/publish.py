"""The Redis side of publishing a snapshot: register, write, go live, retire.

A publish is three steps, each safe to interrupt:

1. :func:`register` records the new snapshot (a fresh token) in the view's registry with
   its metadata; readers do not look at it.
2. The Spark executors write its entity values into its own bucket keys with
   :func:`feature_jobs.online.writer.write_batch`; readers still do not look at them.
3. :func:`go_live` swaps the view's pointer to it in one Lua script that refuses to move
   the pointer backwards, then :func:`retire` gives superseded snapshots a short grace TTL
   (so a reader holding the old pointer finishes) after which Redis drops them.

A crash before step 3 leaves the old pointer live and an orphan that the next sync
retires (or the TTL removes); a re-run writes a fresh token and completes the publish.

A snapshot with fewer than :data:`MIN_KEPT_FRACTION` of the rows of the live one is not
published unless forced (``sync --force``, see :func:`check_shrink`): a half-empty source
usually means a broken upstream, and publishing would turn most entities into MISSING at
once. (The validation gate's ``row_count_drop_pct`` already stops most such batches at
materialize; this guard protects what is *served*.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from feature_jobs.errors import PublishRefused
from feature_jobs.online.codec import RowCodec, datetime_to_micros, micros_to_datetime
from feature_jobs.online.connection import Client
from feature_jobs.online.keys import data_prefix, live_key, meta_key, snaps_key

#: Data keys outlive the pointer by this much: they are written before it goes live.
DATA_TTL_SLACK = timedelta(days=1)
#: How long a superseded snapshot stays readable after the pointer moved away from it.
DEFAULT_GRACE = timedelta(seconds=30)
#: A registered snapshot that never went live is an orphan once this old.
DEFAULT_ABANDONED_AFTER = timedelta(hours=1)
#: A new snapshot must keep at least this fraction of the live snapshot's entities.
MIN_KEPT_FRACTION = 0.5


@dataclass(frozen=True)
class SnapshotMeta:
    """What the online store records about one published (or being published) snapshot."""

    token: str
    feature_ts: datetime
    snapshot_date: date
    buckets: int
    columns: tuple[str, ...]
    types: tuple[str, ...]
    delta_version: int
    definition_version: str
    run_id: str
    rows: int
    started_at: datetime

    def to_hash(self, prefix: str) -> dict[str, str]:
        """The fields stored in the metadata hash (and copied into the pointer)."""
        codec = RowCodec.for_types(self.types)
        return {
            "token": self.token,
            "ts": str(datetime_to_micros(self.feature_ts)),
            "snapshot_date": self.snapshot_date.isoformat(),
            "buckets": str(self.buckets),
            "schema": json.dumps(
                {"cols": list(self.columns), "types": list(self.types), "enc": codec.name}
            ),
            "sep": codec.separator,
            "prefix": prefix,
            "delta_version": str(self.delta_version),
            "definition_version": self.definition_version,
            "run_id": self.run_id,
            "rows": str(self.rows),
            "started_at": str(datetime_to_micros(self.started_at)),
        }


@dataclass(frozen=True)
class LivePointer:
    """The snapshot a view serves, as recorded in its pointer."""

    meta: SnapshotMeta
    live_at: datetime
    logged: bool


@dataclass(frozen=True)
class GoLiveResult:
    """Outcome of :func:`go_live`: ``ok``, ``newer`` (refused), ``gone`` or ``incomplete``."""

    status: str
    previous_token: str | None = None
    live_at: datetime | None = None
    newer_ts: datetime | None = None
    detail: str = ""


def read_live(client: Client, project: str, view: str) -> LivePointer | None:
    """The live pointer of ``view``, or None before its first publish."""
    raw = client.hgetall(live_key(project, view))
    if not raw:
        return None
    fields = {_text(k): _text(v) for k, v in raw.items()}
    return LivePointer(
        meta=_meta_from_hash(fields),
        live_at=micros_to_datetime(int(fields["live_at"])),
        logged=fields.get("logged") == "1",
    )


def _meta_from_hash(fields: dict[str, str]) -> SnapshotMeta:
    schema = json.loads(fields["schema"])
    return SnapshotMeta(
        token=fields["token"],
        feature_ts=micros_to_datetime(int(fields["ts"])),
        snapshot_date=date.fromisoformat(fields["snapshot_date"]),
        buckets=int(fields["buckets"]),
        columns=tuple(schema["cols"]),
        types=tuple(schema["types"]),
        delta_version=int(fields["delta_version"]),
        definition_version=fields["definition_version"],
        run_id=fields["run_id"],
        rows=int(fields["rows"]),
        started_at=micros_to_datetime(int(fields["started_at"])),
    )


def register(client: Client, project: str, view: str, meta: SnapshotMeta, ttl: timedelta) -> None:
    """Step 1: record a snapshot about to be written (invisible to readers)."""
    data_ttl_ms = _ms(ttl + DATA_TTL_SLACK)
    mkey = meta_key(project, view, meta.token)
    pipe = client.pipeline(transaction=False)
    pipe.zadd(snaps_key(project, view), {meta.token: datetime_to_micros(meta.started_at)})
    pipe.pexpire(snaps_key(project, view), data_ttl_ms)
    mapping: dict[Any, Any] = meta.to_hash(data_prefix(project, view, meta.token))
    pipe.hset(mkey, mapping=mapping)
    pipe.pexpire(mkey, data_ttl_ms)
    pipe.execute()


def check_shrink(view: str, live: SnapshotMeta | None, new_rows: int, force: bool) -> None:
    """Refuse to replace a live snapshot by one with under half of its rows, unless forced.

    Raises:
        PublishRefused: with both counts and the way to force it.
    """
    if force or live is None or live.rows == 0:
        return
    if new_rows < MIN_KEPT_FRACTION * live.rows:
        raise PublishRefused(
            f"sync of {view}: the new snapshot has {new_rows} entities, under "
            f"{MIN_KEPT_FRACTION:.0%} of the {live.rows} served now (snapshot "
            f"{live.feature_ts.isoformat()}); "
            "nothing was published - check the source data, or re-run sync with --force "
            "to publish it anyway"
        )


def go_live(client: Client, project: str, view: str, token: str, ttl: timedelta) -> GoLiveResult:
    """Step 3: atomically point the view at ``token`` unless a newer snapshot is live."""
    keys = [
        live_key(project, view),
        snaps_key(project, view),
        meta_key(project, view, token),
    ]
    reply = client.register_script(GO_LIVE)(keys=keys, args=[token, _ms(ttl)])
    status = _text(reply[0])
    if status == "ok":
        previous = _text(reply[1]) or None
        return GoLiveResult("ok", previous, micros_to_datetime(int(_text(reply[2]))))
    if status == "newer":
        newer_ts = micros_to_datetime(int(_text(reply[2])))
        return GoLiveResult("newer", _text(reply[1]), newer_ts=newer_ts)
    if status == "incomplete":
        return GoLiveResult("incomplete", detail=f"{_text(reply[1])} of {_text(reply[2])} entities")
    return GoLiveResult("gone")


def retire(client: Client, project: str, view: str, token: str, grace: timedelta) -> bool:
    """Let a snapshot that is not live expire after ``grace``; False if it is live."""
    mkey = meta_key(project, view, token)
    buckets = client.hget(mkey, "buckets")
    claimed = client.register_script(CLAIM_RETIRE)(
        keys=[live_key(project, view), snaps_key(project, view)], args=[token]
    )
    if not claimed:
        return False
    grace_ms = max(1, _ms(grace))
    prefix = data_prefix(project, view, token)
    pipe = client.pipeline(transaction=False)
    for bucket in range(int(buckets) if buckets is not None else 0):
        pipe.pexpire(f"{prefix}{bucket}", grace_ms)
        if len(pipe) >= 5000:
            pipe.execute()
    pipe.pexpire(mkey, grace_ms)
    pipe.execute()
    return True


def retire_superseded(
    client: Client,
    project: str,
    view: str,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    abandoned_after: timedelta = DEFAULT_ABANDONED_AFTER,
    keep: Sequence[str] = (),
) -> list[str]:
    """Retire every registered snapshot that is not live and not in ``keep``.

    Snapshots registered less than ``abandoned_after`` ago are spared: a concurrent sync
    may still be writing them.
    """
    cutoff = datetime_to_micros(now - abandoned_after)
    registered: Any = client.zrange(snaps_key(project, view), 0, -1, withscores=True)
    retired = []
    for member, score in registered:
        token = _text(member)
        if token in keep or score > cutoff:
            continue
        if retire(client, project, view, token, grace):
            retired.append(token)
    return retired


def set_rows(client: Client, project: str, view: str, token: str, rows: int) -> None:
    """Record how many entities a snapshot holds, once the executors have written it."""
    client.hset(meta_key(project, view, token), "rows", str(rows))


def mark_logged(client: Client, project: str, view: str, token: str) -> bool:
    """Note in the pointer that this publish has its sync-log row."""
    script = client.register_script(MARK_LOGGED)
    return bool(script(keys=[live_key(project, view)], args=[token]))


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- Lua scripts ---------------------------------------------------------------------------
# Each runs atomically inside Redis. Every key a script touches carries the view's hash tag
# (see keys.py), so on a Redis Cluster a script's keys all live in one slot.

#: Make a fully written snapshot the live one, unless a newer one is already live.
#: KEYS: live pointer, snapshot registry, metadata of the new snapshot.
#: ARGV: token, TTL of the pointer in milliseconds.
#: Returns {'ok', previous token or '', live_at micros} | {'newer', token, ts, version}
#: | {'gone'} (the snapshot was retired by a concurrent sync or expired)
#: | {'incomplete', entities stored, entities expected} (Redis lost some of its writes:
#: a restart without persistence, an eviction); the entity count is O(buckets) HLENs.
GO_LIVE = """
local token = ARGV[1]
if not redis.call('ZSCORE', KEYS[2], token) or redis.call('EXISTS', KEYS[3]) == 0 then
  return {'gone'}
end
local new_ts = tonumber(redis.call('HGET', KEYS[3], 'ts'))
local new_version = tonumber(redis.call('HGET', KEYS[3], 'delta_version'))
local cur = redis.call('HMGET', KEYS[1], 'token', 'ts', 'delta_version')
if cur[1] then
  local cur_ts = tonumber(cur[2])
  if cur_ts > new_ts or (cur_ts == new_ts and tonumber(cur[3]) > new_version) then
    return {'newer', cur[1], cur[2], cur[3]}
  end
end
local m = redis.call('HMGET', KEYS[3], 'prefix', 'buckets', 'rows')
local stored = 0
for b = 0, tonumber(m[2]) - 1 do
  stored = stored + redis.call('HLEN', m[1] .. b)
end
if stored ~= tonumber(m[3]) then
  return {'incomplete', tostring(stored), m[3]}
end
local now = redis.call('TIME')
local live_at = now[1] .. string.format('%06d', tonumber(now[2]))
local meta = redis.call('HGETALL', KEYS[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(meta))
redis.call('HSET', KEYS[1], 'token', token, 'live_at', live_at, 'logged', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'ok', cur[1] or '', live_at}
"""

#: Take a snapshot out of the registry so it can be deleted, unless it is live.
#: KEYS: live pointer, snapshot registry. ARGV: token. Returns 1 when claimed, else 0.
CLAIM_RETIRE = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  return 0
end
return redis.call('ZREM', KEYS[2], ARGV[1])
"""

#: Record that the live snapshot's publish is in the sync log.
#: KEYS: live pointer. ARGV: token. Returns 1 when marked (the token is still live).
MARK_LOGGED = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'logged', '1')
  return 1
end
return 0
"""

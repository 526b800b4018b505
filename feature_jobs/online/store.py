"""The SDK: ``FeatureStore.get_online_features(features, entity_rows)`` for serving, and
``FeatureStore.get_historical_features(spine, features)`` for training (the training-set
build of :mod:`feature_jobs.training.historical`, by the same definitions and rule).

A call resolves the requested features per view, reads every view's live pointer and the
entities' stored values in ONE Lua script (one round trip, atomic, so a read never mixes
two snapshots), then applies the view's max_age / on_stale / defaults through
:mod:`feature_jobs.serving_rule` - the same rule the training join compiles into Spark.
On a Redis Cluster each view is one script call (its keys share one slot).

With ``REDIS_URL`` unset the store follows the embedded redis-server of its data root
when it restarts on a new port (see :class:`feature_jobs.online.connection.ServerLink`).

Example::

    store = FeatureStore(Settings.from_env())
    response = store.get_online_features(
        ["user_transaction_stats:txn_count_7d"], [{"user_id": 42}]
    )
    response.get(0, "user_transaction_stats:txn_count_7d").status  # Status.PRESENT
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feature_jobs.definitions import FeatureView, Registry, load_registry
from feature_jobs.errors import DefinitionError, OnlineRequestError
from feature_jobs.online.codec import RowCodec, micros_to_datetime
from feature_jobs.online.connection import Client, Server, ServerLink
from feature_jobs.online.keys import check_read_key, entity_fields, live_key, read_argument
from feature_jobs.online.publish import LivePointer, read_live
from feature_jobs.online.response import OnlineResponse
from feature_jobs.serving_rule import Fill, Outcome, Status, decide, fill_value, is_stale
from feature_jobs.settings import Settings
from feature_jobs.timeutil import require_utc, utc_now

if TYPE_CHECKING:
    from feature_jobs.training.historical import TrainingSet

_PLAN_CACHE_SIZE = 256

#: Read the live pointer of several views and, in the same atomic step, the stored values
#: of their entities. KEYS: one live pointer per view. ARGV: one string per view, the
#: concatenation for each entity of ``<crc32 of key>:<key length>:<encoded key>`` (one
#: argument instead of two per entity: packing arguments is what costs on the client).
#: Returns, per view, {token, ts, schema, presence, values}: presence holds "1" or "0"
#: per entity, values the present entities' stored rows concatenated with the snapshot's
#: separator (decoded by one parser call); token is nil when nothing is published.
READ = """
local out = {}
for i = 1, #KEYS do
  local p = redis.call('HMGET', KEYS[i], 'token', 'ts', 'schema', 'prefix', 'buckets', 'sep')
  local presence, joined = false, false
  if p[1] then
    local prefix, buckets, blob = p[4], tonumber(p[5]), ARGV[i]
    local flags, vals, pos, j, n = {}, {}, 1, 0, 0
    while pos <= #blob do
      local c1 = string.find(blob, ':', pos, true)
      local c2 = string.find(blob, ':', c1 + 1, true)
      local stop = c2 + tonumber(string.sub(blob, c1 + 1, c2 - 1))
      local bucket = tonumber(string.sub(blob, pos, c1 - 1)) % buckets
      local v = redis.call('HGET', prefix .. bucket, string.sub(blob, c2 + 1, stop))
      j = j + 1
      if v then
        n = n + 1
        vals[n] = v
        flags[j] = '1'
      else
        flags[j] = '0'
      end
      pos = stop + 1
    end
    presence = table.concat(flags)
    joined = table.concat(vals, p[6] or ',')
  end
  out[i] = {p[1], p[2], p[3], presence, joined}
end
return out
"""


@dataclass(frozen=True)
class _ViewRead:
    """The part of a request that reads one view."""

    view: FeatureView
    live_key: str
    outputs: tuple[int, ...]  # positions of this view's features in the response
    names: tuple[str, ...]  # their feature names
    defaults: tuple[Any, ...]  # their effective defaults


@dataclass(frozen=True)
class _Plan:
    features: tuple[str, ...]
    reads: tuple[_ViewRead, ...]


@dataclass(frozen=True)
class _Schema:
    """A snapshot's stored column order, mapped onto one request's features."""

    positions: tuple[int | None, ...]  # None: the snapshot lacks the feature
    codec: RowCodec


class FeatureStore:
    """Online reads with the same serving rule as the training join.

    Args:
        settings: project namespace, ``REDIS_URL`` and the definitions module.
        clock: returns "now" (aware, UTC); tests pass a fixed clock.
        registry: the definitions; loaded from ``settings.features_module`` when omitted.
        client: an open Redis client; connected from the settings when omitted.
        timeout: seconds to wait for Redis to accept a connection or answer a call (the
            HTTP server passes a short one: a stalled server then costs a request this
            long, not the whole server).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        registry: Registry | None = None,
        client: Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.registry = registry or load_registry(settings.features_module)
        # Connected on the first online call: a store used only for training sets never
        # starts (or needs) a redis-server.
        self._connect = lambda: ServerLink(settings, client, timeout, READ)
        self._server_link: ServerLink | None = None
        self._plans: dict[tuple[str, ...] | str, _Plan] = {}
        self._schemas: dict[tuple[bytes, tuple[str, ...]], _Schema] = {}
        self._times: dict[bytes, datetime] = {}

    @property
    def _link(self) -> ServerLink:
        if self._server_link is None:
            self._server_link = self._connect()
        return self._server_link

    @property
    def client(self) -> Client:
        """The Redis client in use (replaced when the embedded server moved)."""
        return self._link.server.client

    @property
    def url(self) -> str:
        """The Redis URL in use, without its password (safe to print)."""
        return self._link.url

    def ping(self) -> None:
        """Raise OnlineStoreError unless Redis answers."""
        self._link.call(lambda server: server.client.ping())

    def close(self) -> None:
        """Close the Redis connections."""
        if self._server_link is not None:
            self._server_link.close()

    def get_historical_features(
        self,
        spine: Any,
        features: Sequence[str] | None = None,
        feature_service: str | None = None,
        mode: str = "event-time",
        engine: str = "auto",
        **options: Any,
    ) -> TrainingSet:
        """A point-in-time training set for ``spine`` (pandas, Arrow, Spark or a path).

        The same build as the ``training-set`` command, by the engine ``engine`` picks;
        see :func:`feature_jobs.training.historical.get_historical_features` for the
        options (``timestamp_column``, ``output_format``, ``spark``, ``progress``).
        """
        from feature_jobs.training.historical import get_historical_features

        return get_historical_features(
            self.settings,
            self.registry,
            spine,
            features=features,
            feature_service=feature_service,
            mode=mode,
            engine=engine,
            **options,
        )

    def get_online_features(
        self, features: Sequence[str] | str, entity_rows: Sequence[Mapping[str, Any]]
    ) -> OnlineResponse:
        """Read features for entities as they are served now.

        Args:
            features: ``"view:feature"`` references, or the name of a feature service.
            entity_rows: one mapping per entity holding (at least) the join keys of every
                view requested, e.g. ``{"user_id": 42, "merchant_id": 7}``.

        Returns:
            An :class:`OnlineResponse` in request order (rows and features).

        Raises:
            OnlineRequestError: unknown feature or service, missing or mistyped join key.
            OnlineStoreError: Redis is unreachable or refuses the request.
        """
        plan = self._plan(features)
        now = require_utc(self.clock(), "clock()")
        args_per_view = [self._args(read, entity_rows) for read in plan.reads]
        replies = self._link.call(lambda server: self._fetch(server, plan, args_per_view))
        n, width = len(entity_rows), len(plan.features)
        values: list[list[Any]] = [[None] * width for _ in range(n)]
        statuses: list[list[Status]] = [[Status.MISSING] * width for _ in range(n)]
        times: list[list[datetime | None]] = [[None] * width for _ in range(n)]
        for read, reply in zip(plan.reads, replies, strict=True):
            self._apply(read, reply, now, values, statuses, times)
        return OnlineResponse(plan.features, entity_rows, values, statuses, times)

    def live_snapshots(self, views: Sequence[str]) -> dict[str, LivePointer | None]:
        """The snapshot each of ``views`` serves now (None before its first publish).

        Raises:
            OnlineStoreError: Redis is unreachable or does not answer in time.
        """
        project = self.settings.project
        return self._link.call(
            lambda server: {view: read_live(server.client, project, view) for view in views}
        )

    # -- request planning ----------------------------------------------------------------

    def _plan(self, features: Sequence[str] | str) -> _Plan:
        cache_key = features if isinstance(features, str) else tuple(features)
        plan = self._plans.get(cache_key)
        if plan is None:
            plan = self._build_plan(features)
            if len(self._plans) >= _PLAN_CACHE_SIZE:
                self._plans.clear()
            self._plans[cache_key] = plan
        return plan

    def _build_plan(self, features: Sequence[str] | str) -> _Plan:
        try:
            if isinstance(features, str):
                refs = list(self.registry.service(features).refs)
            else:
                refs = self.registry.resolve(list(features))
        except DefinitionError as exc:
            raise OnlineRequestError(str(exc)) from None
        by_view: dict[str, list[int]] = {}
        for position, ref in enumerate(refs):
            by_view.setdefault(ref.view, []).append(position)
        reads = []
        for view_name, positions in by_view.items():
            view = self.registry.view(view_name)
            names = tuple(refs[p].feature for p in positions)
            reads.append(
                _ViewRead(
                    view=view,
                    live_key=live_key(self.settings.project, view.name),
                    outputs=tuple(positions),
                    names=names,
                    defaults=tuple(view.feature(n).effective_default() for n in names),
                )
            )
        return _Plan(tuple(str(r) for r in refs), tuple(reads))

    @staticmethod
    def _args(read: _ViewRead, entity_rows: Sequence[Mapping[str, Any]]) -> bytes:
        fields = entity_fields(entity_rows, read.view.entity.join_keys)
        for i, field in enumerate(fields):
            check_read_key(field, f"entity row {i}")
        return read_argument(fields)

    # -- the round trip ------------------------------------------------------------------

    @staticmethod
    def _fetch(server: Server, plan: _Plan, args_per_view: list[bytes]) -> list[Any]:
        if not server.cluster:
            return list(server.read(keys=[r.live_key for r in plan.reads], args=args_per_view))
        # A Cluster script may only touch one slot: one call per view.
        return [
            server.read(keys=[read.live_key], args=[arg])[0]
            for read, arg in zip(plan.reads, args_per_view, strict=True)
        ]

    # -- applying the serving rule -------------------------------------------------------

    def _apply(
        self,
        read: _ViewRead,
        reply: Sequence[Any],
        now: datetime,
        values: list[list[Any]],
        statuses: list[list[Status]],
        times: list[list[datetime | None]],
    ) -> None:
        token, ts_raw, schema_raw, presence, joined = reply
        view = read.view
        has_snapshot = token is not None
        feature_ts = self._time(ts_raw) if has_snapshot else None
        if feature_ts is not None and feature_ts > now:
            # Negative age: the reader's clock is behind the snapshot, which is not valid
            # yet at `now` (the training join at ts=now would not use it either). It is not
            # served: MISSING with defaults, as before a view's first snapshot.
            has_snapshot, feature_ts = False, None
        stale = feature_ts is not None and is_stale(now - feature_ts, view.max_age_delta)
        # decide() depends on the entity only through its presence: evaluate both once.
        outcomes = {
            present: decide(has_snapshot, stale, present, view.on_stale)
            for present in (False, True)
        }
        schema = self._schema(schema_raw, read.names) if has_snapshot else None
        # One parser call for all entities of the view; None where an entity is absent.
        rows = schema.codec.decode(presence, joined) if schema is not None else None
        positions = schema.positions if schema is not None else (None,) * len(read.outputs)
        specs = list(zip(read.outputs, positions, read.defaults, strict=True))
        # What an entity gets when no stored value is served: the same for every entity.
        unserved = {
            present: [fill_value(outcomes[present].fill, None, d) for d in read.defaults]
            for present in (False, True)
        }
        for i in range(len(values)):
            row = rows[i] if rows is not None else None
            outcome: Outcome = outcomes[row is not None]
            fill, status = outcome.fill, outcome.status
            row_values, row_statuses, row_times = values[i], statuses[i], times[i]
            if row is None or fill is not Fill.VALUES:
                constant = unserved[row is not None]
                for k, (out, _, _) in enumerate(specs):
                    row_values[out] = constant[k]
                    row_statuses[out] = status
                    row_times[out] = feature_ts
                continue
            for out, position, default in specs:
                if position is None:  # the live snapshot predates this feature
                    row_values[out] = fill_value(fill, None, default)
                    row_statuses[out] = Status.MISSING
                else:
                    row_values[out] = fill_value(fill, row[position], default)
                    row_statuses[out] = status
                row_times[out] = feature_ts

    def _time(self, raw: bytes) -> datetime:
        found = self._times.get(raw)
        if found is None:
            if len(self._times) > 1024:
                self._times.clear()
            found = self._times[raw] = micros_to_datetime(int(raw))
        return found

    def _schema(self, raw: bytes, names: tuple[str, ...]) -> _Schema:
        cache_key = (raw, names)
        found = self._schemas.get(cache_key)
        if found is None:
            schema = json.loads(raw)
            columns, types = schema["cols"], schema["types"]
            index = {name: i for i, name in enumerate(columns)}
            found = _Schema(
                positions=tuple(index.get(name) for name in names),
                codec=RowCodec.from_schema(types, schema.get("enc", "json")),
            )
            if len(self._schemas) > 1024:
                self._schemas.clear()
            self._schemas[cache_key] = found
        return found

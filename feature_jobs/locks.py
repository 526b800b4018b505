"""Run locks: at most one materialize (or sync) of a view and date runs at a time.

Two runs of the same view and date started together (an Airflow retry racing a manual
re-run, two schedulers) must not both write: one takes the lock, the other fails at once
with :class:`LockHeld` (exit code 75, "try again later", which Airflow retries).

A lock is a small record with an **owner token**, the owner's host, pid and run id, and an
**expiry**. The owner renews it from a background thread while it runs, so a long job
keeps it and a crashed one loses it when it expires. A lock whose owner process is gone
(same host, dead pid: a SIGKILLed driver) is taken over at once, so a re-run after a crash
does not wait for the expiry. Only the owner token can renew or release a lock.

A record only ever appears whole (a lock file is written aside and linked into place; a
Redis key is set with its value), so one that is empty, unparseable or names no owner was
left by something else (a full disk, a hand edit): it is stale and replaced, never
reported as a live holder.

Where locks live, next to what they protect:

* materialize: a file ``<delta_root>/_skewless/locks/<step>/<view>/<date>.lock`` created
  with ``O_EXCL`` when the Delta root is a local (or NFS) folder; in Redis when it is a URI
  such as ``s3a://`` (object stores have no exclusive create);
* sync: always Redis, key ``{<project>:<view>}:lock:<step>/<view>/<date>`` (``SET NX PX``).

A job takes its locks with an explicit ``with`` block around its work, naming what it
locks (``materialize_range`` locks every date of its range, ``sync`` its one date)::

    with run_lock(settings, "data", "materialize", view.name, days, run_id):
        ...

No decorator finds the settings, view or dates by inspecting the job's signature, so
renaming a parameter cannot silently turn locking off.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

from feature_jobs.errors import LockHeld
from feature_jobs.offline.layout import locks_folder
from feature_jobs.settings import Settings

log = logging.getLogger("skewless.locks")

#: A lock not renewed for this long is free; renewed every third of it while the job runs.
DEFAULT_TTL_S = 600.0
Where = Literal["data", "online"]
#: Tokens of the locks this process holds now: a record naming this pid with another
#: token was left by an earlier run of this process whose release failed (Redis down).
_HELD: set[str] = set()


class _Backend(Protocol):
    def errors(self) -> AbstractContextManager[None]:
        """Turns the backend's own exceptions into one-line skewless errors."""

    def close(self) -> None: ...

    def try_acquire(self, key: str, record: dict[str, Any], ttl_s: float) -> dict[str, Any] | None:
        """Take ``key`` (or a stale holder's); return the current holder when held."""

    def renew(self, key: str, token: str, ttl_s: float) -> bool: ...

    def release(self, key: str, token: str) -> None: ...


def _parse(raw: str | bytes) -> dict[str, Any] | None:
    """The lock record in ``raw``, or None when it is not one (empty, cut, no owner)."""
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    owner = (record.get("token"), record.get("host"), record.get("pid"), record.get("expires_at"))
    if not (isinstance(owner[0], str) and isinstance(owner[1], str) and isinstance(owner[2], int)):
        return None
    return record if isinstance(owner[3], int | float) else None


def _stale(holder: dict[str, Any], *, check_expiry: bool = True) -> bool:
    """Expired, or owned by a process of this host that no longer exists."""
    if check_expiry and float(holder.get("expires_at", 0)) < time.time():
        return True
    if holder.get("host") != socket.gethostname():
        return False
    if holder.get("pid") == os.getpid():
        return holder.get("token") not in _HELD
    try:
        os.kill(int(holder.get("pid", 0)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


class _FileBackend:
    """Lock files in a local folder; ``O_EXCL`` makes the create atomic."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def errors(self) -> AbstractContextManager[None]:
        return nullcontext()

    def close(self) -> None:
        pass

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.lock"

    def try_acquire(self, key: str, record: dict[str, Any], ttl_s: float) -> dict[str, Any] | None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The record is written aside, then linked into place: link() fails if the lock
        # exists (atomic, NFS included), and the lock never exists half-written, so an
        # empty or unreadable lock file is always debris, never a run starting up.
        staged = path.with_name(f"{path.name}.{record['token']}.new")
        staged.write_text(json.dumps(record))
        try:
            for _ in range(3):
                try:
                    os.link(staged, path)
                    return None
                except FileExistsError:
                    pass
                holder = _read(path)
                if holder is not None and not _stale(holder):
                    return holder
                # Move the stale file aside under a unique name: of two racing breakers,
                # only one rename succeeds; the other sees the file gone and retries.
                aside = path.with_name(f"{path.name}.stale-{record['token']}")
                try:
                    os.rename(path, aside)
                except FileNotFoundError:
                    continue
                aside.unlink(missing_ok=True)
                log.warning("took over stale lock %s from %s", key, holder or "(unreadable)")
            return _read(path) or {"token": "?"}
        finally:
            staged.unlink(missing_ok=True)

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        path = self._path(key)
        holder = _read(path)
        if holder is None or holder.get("token") != token:
            return False
        holder["expires_at"] = time.time() + ttl_s
        staged = path.with_name(f"{path.name}.{token}.tmp")
        staged.write_text(json.dumps(holder))
        os.replace(staged, path)
        return True

    def release(self, key: str, token: str) -> None:
        path = self._path(key)
        holder = _read(path)
        if holder is not None and holder.get("token") == token:
            path.unlink(missing_ok=True)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return _parse(path.read_bytes())
    except OSError:
        return None


#: Take over KEYS[1] only if it still holds ARGV[1] (the stale record we looked at).
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
#: Renew (ARGV[2] = ms) or, with ARGV[2] = '0', delete KEYS[1] if its token is ARGV[1].
_IF_OWNER = """
local current = redis.call('GET', KEYS[1])
local ok, record = pcall(cjson.decode, current or '')
if not ok or type(record) ~= 'table' or record['token'] ~= ARGV[1] then
  return 0
end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class _RedisBackend:
    """Lock keys in the online Redis, inside the view's hash tag (ACL: the project prefix)."""

    def __init__(self, url: str, project: str, view: str) -> None:
        from feature_jobs.online.connection import JOB_RETRY, connect

        self.url = url
        with self.errors():
            self.client = connect(url, retry=JOB_RETRY)
        self.prefix = "{" + project + ":" + view + "}:lock:"

    def errors(self) -> AbstractContextManager[None]:
        from feature_jobs.online.connection import redis_errors

        return redis_errors(self.url)

    def close(self) -> None:
        self.client.close()

    def try_acquire(self, key: str, record: dict[str, Any], ttl_s: float) -> dict[str, Any] | None:
        name, text, ms = self.prefix + key, json.dumps(record), str(int(ttl_s * 1000))
        for _ in range(3):
            if self.client.set(name, text, nx=True, px=int(ms)):
                return None
            raw = self.client.get(name)
            if raw is None:
                continue
            holder = _parse(raw)
            # Redis expires the key itself (renewals move its TTL, not the record).
            if holder is not None and not _stale(holder, check_expiry=False):
                return holder
            if self.client.eval(_TAKE_OVER, 1, name, raw, text, ms):
                log.warning("took over stale lock %s from %s", name, holder or "(unreadable)")
                return None
        return {"token": "?"}

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        return bool(self.client.eval(_IF_OWNER, 1, self.prefix + key, token, int(ttl_s * 1000)))

    def release(self, key: str, token: str) -> None:
        self.client.eval(_IF_OWNER, 1, self.prefix + key, token, "0")


def _backend(settings: Settings, where: Where, view: str) -> _Backend:
    if where == "data" and "://" not in settings.delta_root:
        return _FileBackend(locks_folder(settings))
    from feature_jobs.online.connection import online_url

    return _RedisBackend(online_url(settings), settings.project, view)


@contextmanager
def run_lock(
    settings: Settings,
    where: Where,
    step: str,
    view: str,
    days: Sequence[date],
    run_id: str | None,
    ttl_s: float = DEFAULT_TTL_S,
) -> Iterator[str]:
    """Hold the locks of ``step`` for ``view`` and every date in ``days``; yield the token.

    Raises:
        LockHeld: another live run holds one of them (none is kept then).
    """
    backend = _backend(settings, where, view)
    token = uuid.uuid4().hex
    record = {
        "token": token,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "run_id": run_id,
        "acquired_at": time.time(),
        "expires_at": time.time() + ttl_s,
    }
    keys = [f"{step}/{view}/{day.isoformat()}" for day in sorted(set(days))]
    taken: list[str] = []
    stop = threading.Event()
    renewer: threading.Thread | None = None
    _HELD.add(token)  # before the record exists, so no thread of ours takes it for stale
    try:
        for key in keys:
            with backend.errors():
                holder = backend.try_acquire(key, record, ttl_s)
            if holder is not None:
                raise LockHeld(
                    f"{step} of {view} for {key.rsplit('/', 1)[1]} is already running (run "
                    f"{holder.get('run_id')}, pid {holder.get('pid')} on {holder.get('host')}); "
                    "wait for it to finish, then re-run if needed"
                )
            taken.append(key)
        renewer = threading.Thread(
            target=_renew_until, args=(backend, taken, token, ttl_s, stop), daemon=True
        )
        renewer.start()
        yield token
    finally:
        _HELD.discard(token)
        stop.set()
        if renewer is not None:
            renewer.join(timeout=10)
        for key in taken:
            try:
                backend.release(key, token)
            except Exception as exc:  # the lock then expires on its own
                log.warning("could not release lock %s: %s", key, exc)
        backend.close()


def _renew_until(
    backend: _Backend, keys: list[str], token: str, ttl_s: float, stop: threading.Event
) -> None:
    while not stop.wait(ttl_s / 3):
        for key in keys:
            try:
                if not backend.renew(key, token, ttl_s):
                    log.error("lock %s was lost (expired and taken over)", key)
            except Exception as exc:
                log.warning("could not renew lock %s: %s", key, exc)

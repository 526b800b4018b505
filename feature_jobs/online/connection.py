"""Connections to the online Redis: URL forms, Cluster, one-line errors, the ACL users, and
the serving SDK's link that follows the embedded server.

Accepted ``REDIS_URL`` forms:

- ``redis://[[user]:password@]host[:port][/db]`` and ``rediss://...`` (TLS), for a single
  server; ``user`` is an ACL user (Redis 6+), omitted for the ``default`` user;
- ``unix:///path/to/redis.sock[?db=0&password=...]``;
- ``redis+cluster://[[user]:password@]host:port`` and ``rediss+cluster://...`` for a Redis
  Cluster (any node works as the seed; the others are discovered).

When ``REDIS_URL`` is unset, :func:`online_url` starts (or reuses) the embedded server.

**ACL users** (:func:`acl_rules`): a writer for sync, a read-only user for serving. Give
each its own password and put it only in the environment (``REDIS_URL`` of the sync jobs,
of the serving process) or in an Airflow connection, never in a file of the repository.
Both users are confined to the project's keys (every key skewless writes starts with
``{<project>:``, see ``keys.py``); neither may run administrative or keyspace-wide
commands (``@dangerous``: FLUSHALL, CONFIG, KEYS, DEBUG, SHUTDOWN...; and SCAN, which
would list other projects' key names). Commands a Lua script calls are checked against
the calling user too, so the reader's read script cannot write even though it runs
through EVALSHA. Example (``redis-cli``, project ``skewless``)::

    ACL SETUSER skewless-writer on >WRITER_PASSWORD ~{skewless:* +@all -@dangerous -scan
    ACL SETUSER skewless-reader on >READER_PASSWORD ~{skewless:* -@all +@read
        +@connection -@dangerous -scan +eval +evalsha +script|load

then ``REDIS_URL=redis://skewless-writer:WRITER_PASSWORD@host:6379/0`` for sync and
``REDIS_URL=redis://skewless-reader:READER_PASSWORD@host:6379/0`` for ``serve``.

**Following the embedded server** (:class:`ServerLink`): with ``REDIS_URL`` set, redis-py
reconnects to the same address by itself. With it unset, the serving SDK talks to the
embedded redis-server of its data root, which takes a new port each time it starts: when
a call cannot connect, the link looks the server up again (at most once a second, by one
thread; starting it if it is down, as every command does) and retries the call once on
the new address.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import EqualJitterBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from feature_jobs.errors import ConfigError, OnlineStoreError, first_line

if TYPE_CHECKING:
    from feature_jobs.settings import Settings

Client: TypeAlias = "redis.Redis | RedisCluster"

#: Jobs (sync on the driver and on the executors) ride out a Redis restart or failover:
#: every command is retried 8 times with exponential backoff and jitter, 5.5-11 s in all;
#: their writes are idempotent. Serving keeps redis-py's short default to fail fast.
JOB_RETRY = Retry(EqualJitterBackoff(cap=2.0, base=0.1), 8)

_SINGLE = ("redis", "rediss", "unix")
_CLUSTER = ("redis+cluster", "rediss+cluster")


def online_url(settings: Settings) -> str:
    """The Redis URL to use: ``REDIS_URL``, or the embedded server (started if needed)."""
    if settings.redis_url:
        return settings.redis_url
    from feature_jobs.online.embedded import ensure_embedded

    return ensure_embedded(settings)


def connect(url: str, *, timeout: float = 10.0, retry: Retry | None = None) -> Client:
    """Open a client for ``url`` and check it with a PING.

    Args:
        url: a Redis URL (see the module docstring).
        timeout: seconds to wait for a connection or a reply.
        retry: the retry policy (:data:`JOB_RETRY` for jobs); redis-py's default if None.

    Raises:
        ConfigError: when the URL is not a Redis URL.
        OnlineStoreError: when the server cannot be reached or refuses the credentials.
    """
    scheme = urlsplit(url).scheme
    options: dict[str, Any] = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    if retry is not None:
        options["retry"] = retry
    with redis_errors(url):
        if scheme in _CLUSTER:
            client: Client = RedisCluster.from_url(url.replace("+cluster", "", 1), **options)
        elif scheme in _SINGLE:
            client = redis.Redis.from_url(url, **options)
        else:
            raise ConfigError(
                f"REDIS_URL {redact(url)!r} has scheme {scheme!r}; use redis://, rediss://, "
                "unix://, redis+cluster:// or rediss+cluster://"
            )
        client.ping()
    return client


def is_cluster(client: Client) -> bool:
    """True when ``client`` talks to a Redis Cluster."""
    return isinstance(client, RedisCluster)


@contextmanager
def redis_errors(url: str, timeout: float | None = None) -> Iterator[None]:
    """Turn redis-py exceptions raised inside the block into one-line OnlineStoreErrors.

    Args:
        url: the server's URL (printed without its password).
        timeout: the client's socket timeout, named when the server does not answer.
    """
    where = redact(url)
    try:
        yield
    except redis.AuthenticationError as exc:
        raise OnlineStoreError(
            f"Redis at {where} refused the credentials ({first_line(exc)}); check the user "
            "and password in REDIS_URL"
        ) from None
    except redis.TimeoutError as exc:
        # Connected but silent (frozen, swapping, a long script): not the same fix as a
        # server that refuses connections.
        within = f"within {timeout:g} s" if timeout is not None else "in time"
        raise OnlineStoreError(
            f"Redis at {where} did not answer {within} ({first_line(exc)}); check that the "
            "server is not stopped or overloaded"
        ) from None
    except (redis.ConnectionError, redis.exceptions.ClusterError) as exc:
        raise OnlineStoreError(
            f"cannot reach Redis at {where} ({first_line(exc)}); start the server or fix REDIS_URL"
        ) from None
    except redis.exceptions.NoPermissionError as exc:
        raise OnlineStoreError(
            f"Redis at {where} denied the ACL user ({first_line(exc)}); grant it this "
            "project's keys (~{<project>:*) or fix the user in REDIS_URL"
        ) from None
    except redis.ResponseError as exc:
        message = first_line(exc)
        if "AUTH" in message or "NOPERM" in message:
            raise OnlineStoreError(
                f"Redis at {where} refused the request ({message}); check the ACL user and "
                "password in REDIS_URL"
            ) from None
        raise OnlineStoreError(f"Redis at {where} failed: {message}") from None


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (safe to print and log)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(
        (parts.scheme, f"{user}:***@{host}{port}", parts.path, parts.query, parts.fragment)
    )


# -- the ACL users -------------------------------------------------------------------------

Role = Literal["writer", "reader"]


def acl_rules(role: Role, project: str) -> list[str]:
    """The ACL rules (without user name and password) of ``role`` for ``project``."""
    keys = "~{" + project + ":*"
    if role == "writer":
        return ["on", keys, "+@all", "-@dangerous", "-scan"]
    return [
        "on",
        keys,
        "-@all",
        "+@read",
        "+@connection",
        "-@dangerous",
        "-scan",
        "+eval",
        "+evalsha",
        "+script|load",
    ]


# -- the serving SDK's link, following the embedded server ---------------------------------

#: Seconds between two look-ups of the embedded server after failed connections.
FOLLOW_INTERVAL_S = 1.0

T = TypeVar("T")


@dataclass(frozen=True)
class Server:
    """One server's address, client and read script: swapped as a whole, never mixed."""

    url: str
    client: Client
    read: Any  # the link's read script, registered on ``client``
    cluster: bool

    @classmethod
    def open(cls, url: str, client: Client, script: str) -> Server:
        """Wrap an open client of the server at ``url``, registering the Lua ``script``."""
        return cls(url, client, client.register_script(script), is_cluster(client))


class ServerLink:
    """Runs calls on the store's Redis with one-line errors; follows the embedded server.

    Args:
        settings: ``REDIS_URL``, or the data root whose embedded server is used.
        client: an open client (then never replaced); connected from the settings if None.
        timeout: seconds to wait for a connection or a reply.
        script: the Lua script every server is read through (``Server.read``).
    """

    def __init__(
        self, settings: Settings, client: Client | None, timeout: float, script: str
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.script = script
        # Only a link that found the embedded server itself may go looking for it again.
        self._follows = client is None and not settings.redis_url
        if client is None:
            url = online_url(settings)
            client = connect(url, timeout=timeout)
        else:
            url = settings.redis_url or "the embedded redis-server"
        self.server = Server.open(url, client, script)
        self._lock = threading.Lock()
        self._looked_at = float("-inf")

    @property
    def url(self) -> str:
        """The URL in use, without its password (safe to print)."""
        return redact(self.server.url)

    def call(self, action: Callable[[Server], T]) -> T:
        """``action`` on the current server; once more if the embedded one moved.

        Raises:
            OnlineStoreError: the server cannot be reached, does not answer within the
                timeout, or refuses the call.
        """
        server = self.server
        with redis_errors(server.url, self.timeout):
            try:
                return action(server)
            except redis.ConnectionError:
                moved = self._follow(server)
                if moved is None:
                    raise
        with redis_errors(moved.url, self.timeout):
            return action(moved)

    def close(self) -> None:
        """Close the connections."""
        self.server.client.close()

    def _follow(self, failed: Server) -> Server | None:
        """The embedded server's new address, or None when it has not moved (or cannot say).

        At most one look-up a second, by one thread: the others fail fast meanwhile. Not on
        a timeout: a frozen server is still the right one, and starting a second one on its
        data folder would be wrong.
        """
        if not self._follows or not self._lock.acquire(blocking=False):
            return None
        try:
            if self.server is not failed:
                return self.server  # another thread already moved on
            if time.monotonic() - self._looked_at < FOLLOW_INTERVAL_S:
                return None
            self._looked_at = time.monotonic()
            try:
                url = online_url(self.settings)
                if url == failed.url:
                    return None  # same server: a dropped connection, redis-py reconnects
                self.server = Server.open(url, connect(url, timeout=self.timeout), self.script)
            except (OnlineStoreError, ConfigError):
                return None  # the caller reports its own failure
            # Calls still running on the old client fail like this one did.
            failed.client.close()
            return self.server
        finally:
            self._lock.release()

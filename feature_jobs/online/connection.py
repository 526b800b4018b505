"""Connections to the online Redis: URL forms, Cluster, and one-line errors.

Accepted ``REDIS_URL`` forms:

- ``redis://[[user]:password@]host[:port][/db]`` and ``rediss://...`` (TLS), for a single
  server; ``user`` is an ACL user (Redis 6+), omitted for the ``default`` user;
- ``unix:///path/to/redis.sock[?db=0&password=...]``;
- ``redis+cluster://[[user]:password@]host:port`` and ``rediss+cluster://...`` for a Redis
  Cluster (any node works as the seed; the others are discovered).

When ``REDIS_URL`` is unset, :func:`online_url` starts (or reuses) the embedded server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias
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

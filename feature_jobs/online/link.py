"""The serving SDK's connection to its Redis, following the embedded server when it moves.

With ``REDIS_URL`` set, redis-py reconnects to the same address by itself. With it unset,
the store talks to the embedded redis-server of its data root, which takes a new port each
time it starts: when a call cannot connect, :class:`ServerLink` looks the server up again
(at most once a second, by one thread; starting it if it is down, as every command does)
and retries the call once on the new address.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis

from feature_jobs.errors import ConfigError, OnlineStoreError
from feature_jobs.online.connection import (
    Client,
    connect,
    is_cluster,
    online_url,
    redact,
    redis_errors,
)
from feature_jobs.online.scripts import READ
from feature_jobs.settings import Settings

#: Seconds between two look-ups of the embedded server after failed connections.
FOLLOW_INTERVAL_S = 1.0

T = TypeVar("T")


@dataclass(frozen=True)
class Server:
    """One server's address, client and read script: swapped as a whole, never mixed."""

    url: str
    client: Client
    read: Any  # the READ script registered on ``client``
    cluster: bool

    @classmethod
    def open(cls, url: str, client: Client) -> Server:
        """Wrap an open client of the server at ``url``."""
        return cls(url, client, client.register_script(READ), is_cluster(client))


class ServerLink:
    """Runs calls on the store's Redis with one-line errors; follows the embedded server.

    Args:
        settings: ``REDIS_URL``, or the data root whose embedded server is used.
        client: an open client (then never replaced); connected from the settings if None.
        timeout: seconds to wait for a connection or a reply.
    """

    def __init__(self, settings: Settings, client: Client | None, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout
        # Only a link that found the embedded server itself may go looking for it again.
        self._follows = client is None and not settings.redis_url
        if client is None:
            url = online_url(settings)
            client = connect(url, timeout=timeout)
        else:
            url = settings.redis_url or "the embedded redis-server"
        self.server = Server.open(url, client)
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
                self.server = Server.open(url, connect(url, timeout=self.timeout))
            except (OnlineStoreError, ConfigError):
                return None  # the caller reports its own failure
            # Calls still running on the old client fail like this one did.
            failed.client.close()
            return self.server
        finally:
            self._lock.release()

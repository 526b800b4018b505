"""Fixtures of the online-store tests: settings bound to the shared real redis-server."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from feature_jobs.online.connection import Client, connect
from feature_jobs.online.store import FeatureStore
from feature_jobs.settings import Settings
from tests.online.views import REGISTRY
from tests.support.redis_server import RedisServer


@pytest.fixture
def online_settings(settings: Settings, redis_server: RedisServer) -> Settings:
    """This test's settings (own folder, own project namespace) on the shared server."""
    return dataclasses.replace(settings, redis_url=redis_server.url)


@pytest.fixture
def client(online_settings: Settings) -> Iterator[Client]:
    redis_client = connect(online_settings.redis_url or "")
    yield redis_client
    redis_client.close()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def store_factory(online_settings: Settings, clock: Clock) -> Iterator[Callable[..., FeatureStore]]:
    stores: list[FeatureStore] = []

    def make(settings: Settings | None = None) -> FeatureStore:
        store = FeatureStore(settings or online_settings, clock=clock, registry=REGISTRY)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()

"""Publish guards: a collapsed or empty snapshot is not published unless forced; huge
values and keys are refused before they reach Redis."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from feature_jobs.cli import main
from feature_jobs.errors import OnlineRequestError, PublishRefused
from feature_jobs.online.connection import connect
from feature_jobs.online.publish import read_live
from feature_jobs.online.store import FeatureStore
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from tests.online.offline import write_snapshot
from tests.online.views import REGISTRY as ONLINE_REGISTRY
from tests.online.views import pair_stats
from tests.reliability.history import D1, D2, D3, snapshot_time
from tests.reliability.invariants import (
    READ_AT,
    REGISTRY,
    USER_STATS,
    SnapshotReader,
    days_seen,
    read_all,
    sent_alerts,
)


@pytest.fixture
def online(settings: Settings, redis_server, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return dataclasses.replace(
        settings, redis_url=redis_server.url, alert_jsonl=tmp_path / "alerts.jsonl"
    )


def rows(n: int, day: date) -> list[dict[str, object]]:
    return [
        {"user_id": u, "count_7d": day.day, "sum_7d": u + 0.5, "last_country_7d": "FR"}
        for u in range(n)
    ]


def live_day(settings: Settings) -> tuple[Any, int]:
    client = connect(settings.redis_url or "")
    live = read_live(client, settings.project, "user_stats")
    client.close()
    assert live is not None
    return live.meta.feature_ts, live.meta.rows


def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    for name, value in {
        "SKEWLESS_DATA_ROOT": str(settings.data_root),
        "SKEWLESS_PROJECT": settings.project,
        "SKEWLESS_FEATURES": "tests.reliability.defs",
        "REDIS_URL": settings.redis_url or "",
        "SKEWLESS_ALERT_JSONL": str(settings.alert_jsonl),
    }.items():
        monkeypatch.setenv(name, value)
    return main(list(args))


def test_shrunken_snapshot_needs_force_and_empty_one_is_refused(
    spark, online: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = online
    write_snapshot(spark, settings, USER_STATS, D1, rows(100, D1))
    assert sync(spark, settings, USER_STATS, D1).published
    write_snapshot(spark, settings, USER_STATS, D2, rows(49, D2))  # under half of 100
    capsys.readouterr()
    values = {day: {int(r["user_id"]): (r["count_7d"], r["sum_7d"], r["last_country_7d"])
                    for r in rows(n, day)} for day, n in ((D1, 100), (D2, 49))}  # fmt: skip
    reader = SnapshotReader(settings, values)
    reader.start()

    code = cli(settings, monkeypatch, "sync", "--view", "user_stats", "--date", str(D2))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert "the new snapshot has 49 entities, under 50% of the 100 served now" in err[-1]
    assert "--force" in err[-1]
    assert live_day(settings) == (snapshot_time(D1), 100)
    assert days_seen(reader) == [D1]  # readers never saw the refused snapshot
    sent = sent_alerts(settings)
    assert [a["kind"] for a in sent] == ["sync.refused"]
    assert sent[0]["view"] == "user_stats" and sent[0]["snapshot_date"] == str(D2)

    code = cli(settings, monkeypatch, "sync", "--view", "user_stats", "--date", str(D2), "--force")
    assert code == 0
    assert live_day(settings) == (snapshot_time(D2), 49)
    store = FeatureStore(settings, clock=lambda: READ_AT, registry=REGISTRY)
    assert read_all(store, USER_STATS, list(range(100)))[1] == {
        u: (D2.day, u + 0.5, "FR") for u in range(49)
    }
    store.close()

    # An empty snapshot: nothing to publish; refused with one alert, D2 stays live.
    write_snapshot(spark, settings, USER_STATS, D3, [])
    with pytest.raises(PublishRefused, match=f"has no snapshot for {D3}"):
        sync(spark, settings, USER_STATS, D3, force=True)
    assert live_day(settings) == (snapshot_time(D2), 49)
    reader.finish()
    assert days_seen(reader) == [D1, D2]
    assert [a["kind"] for a in sent_alerts(settings)] == ["sync.refused", "sync.refused"]


def _largest_stored(settings: Settings) -> int:
    client = connect(settings.redis_url or "")
    pattern = "{" + settings.project + ":*"
    sizes = [int(client.memory_usage(key) or 0) for key in client.scan_iter(match=pattern)]
    client.close()
    return max(sizes, default=0)


def test_huge_value_and_huge_key_are_refused_before_redis(spark, online: Settings) -> None:
    settings = online
    huge = rows(3, D1)
    huge[1]["last_country_7d"] = "x" * (10 * 1024 * 1024)
    write_snapshot(spark, settings, USER_STATS, D1, huge)
    with pytest.raises(PublishRefused) as info:
        sync(spark, settings, USER_STATS, D1)
    message = str(info.value)
    assert "sync of user_stats: the values of entity b'1:1' are 10.0 MiB" in message
    assert "over the 1.0 MiB limit" in message and "\n" not in message

    long_key = "k" * (1024 * 1024)
    write_snapshot(spark, settings, pair_stats, D1, [{"left_id": long_key, "right_id": "r"}])
    with pytest.raises(PublishRefused, match=r"an entity key is 1.0 MiB \(starts b'1048576:kkk"):
        sync(spark, settings, pair_stats, D1)

    assert _largest_stored(settings) < 64 * 1024  # neither reached Redis
    assert [a["kind"] for a in sent_alerts(settings)] == ["sync.refused", "sync.refused"]

    store = FeatureStore(settings, registry=ONLINE_REGISTRY)
    with pytest.raises(OnlineRequestError, match=r"entity row 0: the entity key is 1\.0 MiB"):
        store.get_online_features(
            ["pair_stats:pair_amount_7d"], [{"left_id": long_key, "right_id": "r"}]
        )
    store.close()

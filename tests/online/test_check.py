"""Consistency check and the sync/check/get commands, run in-process on the test session."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from feature_jobs.cli import main
from feature_jobs.online.check import check
from feature_jobs.online.keys import data_prefix, encode_entity, key_hash
from feature_jobs.online.publish import read_live
from feature_jobs.online.sync import sync
from tests.online.offline import write_snapshot
from tests.online.views import user_stats

D1, D2 = date(2024, 3, 1), date(2024, 3, 2)


def rows(n: int) -> list[dict[str, object]]:
    return [
        {"user_id": i, "txn_count_7d": i, "amount_sum_7d": i / 3, "last_country": f"c{i}"}
        for i in range(n)
    ]


@pytest.fixture
def cli_env(monkeypatch, online_settings, tmp_path):
    env = {
        "SKEWLESS_DATA_ROOT": str(online_settings.data_root),
        "REDIS_URL": online_settings.redis_url,
        "SKEWLESS_PROJECT": online_settings.project,
        "SKEWLESS_FEATURES": "tests.online.views",
        "SKEWLESS_ALERT_JSONL": str(tmp_path / "alerts.jsonl"),
        "SPARK_MASTER": "local[2]",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return tmp_path / "alerts.jsonl"


def test_check_passes_then_catches_corruption_and_alerts(
    spark, online_settings, client, cli_env, capsys
):
    write_snapshot(spark, online_settings, user_stats, D1, rows(40))
    assert main(["sync", "--view", "user_stats", "--date", "2024-03-01"]) == 0
    assert "40 entities live" in capsys.readouterr().out

    ok = check(spark, online_settings, user_stats, D1)
    assert ok.passed and ok.sampled == 40 and ok.mismatches == 0 and ok.online_rows == 40

    sampled = check(spark, online_settings, user_stats, D1, sample=5)
    assert sampled.passed and 1 <= sampled.sampled <= 5

    # Corrupt one value and delete another entity behind the store's back.
    live = read_live(client, online_settings.project, "user_stats")
    assert live is not None
    prefix = data_prefix(online_settings.project, "user_stats", live.meta.token)
    for user_id, value in ((3, b'[3,1.5,"c3",null,null]'), (4, None)):
        field = encode_entity([user_id])
        bucket = f"{prefix}{key_hash(field) % live.meta.buckets}"
        client.hdel(bucket, field) if value is None else client.hset(bucket, field, value)
    bad = check(spark, online_settings, user_stats, D1)
    assert not bad.passed and bad.mismatches == 2 and bad.rate == pytest.approx(2 / 40)
    assert bad.online_rows == 39
    assert any("amount_sum_7d: Delta 1.0 != Redis 1.5" in e for e in bad.examples)
    assert any("absent from Redis" in e for e in bad.examples)
    assert check(spark, online_settings, user_stats, D1, threshold=0.5).passed is False  # counts

    assert main(["check", "--view", "user_stats", "--date", "2024-03-01"]) == 3
    out = capsys.readouterr().out
    assert "MISMATCH: 2/40 sampled entities differ" in out
    alerts = [json.loads(line) for line in cli_env.read_text().splitlines()]
    assert [a["kind"] for a in alerts] == ["online.consistency_failed"]
    assert alerts[0]["view"] == "user_stats" and alerts[0]["snapshot_date"] == "2024-03-01"


def test_check_of_unpublished_and_superseded_dates(spark, online_settings):
    write_snapshot(spark, online_settings, user_stats, D1, rows(3))
    unpublished = check(spark, online_settings, user_stats, D1)
    assert not unpublished.passed and unpublished.rate == 1.0
    assert "not published" in unpublished.message
    write_snapshot(spark, online_settings, user_stats, D2, rows(3))
    sync(spark, online_settings, user_stats, D2)
    older = check(spark, online_settings, user_stats, D1)
    assert older.passed and not older.checked and "newer snapshot" in older.message


def test_get_command_prints_values_and_statuses(spark, online_settings, cli_env, capsys):
    # The command reads the wall clock: publish yesterday's snapshot so it is fresh.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    write_snapshot(spark, online_settings, user_stats, yesterday, rows(3))
    sync(spark, online_settings, user_stats, yesterday)
    code = main(["get", "--feature", "user_stats:last_country", "--key", "user_id=2",
                 "--key", "user_id=9", "--json"])  # fmt: skip
    assert code == 0
    body = json.loads(capsys.readouterr().out)
    assert [r["values"] for r in body["results"]] == [["c2"], ["??"]]
    assert [r["statuses"] for r in body["results"]] == [["PRESENT"], ["MISSING"]]
    assert main(["get", "--view", "user_stats", "--key", "user_id=2"]) == 0
    table = capsys.readouterr().out
    assert "user_id=2" in table and "'c2'" in table and "PRESENT" in table
    assert main(["get", "--view", "user_stats", "--key", "user_id=abc"]) == 2
    assert "user_id is a long; give an integer" in capsys.readouterr().err

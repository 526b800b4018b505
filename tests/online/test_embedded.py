"""The embedded redis-server: started on demand, reused, persisted under the data folder."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from feature_jobs.cli import main
from feature_jobs.errors import OnlineStoreError
from feature_jobs.online.connection import connect, online_url
from feature_jobs.online.embedded import server_dir, stop_embedded
from feature_jobs.settings import Settings
from tests.online.direct_publish import publish_rows
from tests.online.views import user_stats


@pytest.fixture
def embedded_settings(settings: Settings) -> Iterator[Settings]:
    local = dataclasses.replace(settings, redis_url=None)
    yield local
    stop_embedded(local)


def test_started_on_demand_reused_and_persisted(embedded_settings):
    url = online_url(embedded_settings)
    folder = server_dir(embedded_settings)
    info = json.loads((folder / "server.json").read_text())
    os.kill(info["pid"], 0)  # a real process
    assert (folder / "server.json").stat().st_mode & 0o077 == 0  # holds the password
    assert online_url(embedded_settings) == url  # reused, not restarted
    assert json.loads((folder / "server.json").read_text())["pid"] == info["pid"]
    with pytest.raises(OnlineStoreError, match="refused the credentials"):
        connect(url.replace(f":{info['password']}@", "@"))

    feature_ts = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    client = connect(url)
    publish_rows(client, embedded_settings.project, user_stats, feature_ts,
                 [{"user_id": 5, "txn_count_7d": 55}])  # fmt: skip
    client.close()
    assert stop_embedded(embedded_settings)
    assert not stop_embedded(embedded_settings)  # nothing left running

    restarted = online_url(embedded_settings)  # starts again from the append-only file
    assert json.loads((folder / "server.json").read_text())["pid"] != info["pid"]
    client = connect(restarted)
    live = client.hget("{" + embedded_settings.project + ":user_stats}:live", "rows")
    assert live == b"1"
    client.close()


def test_get_command_with_redis_url_unset_uses_the_embedded_server(
    embedded_settings, monkeypatch, capsys
):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(embedded_settings.data_root))
    monkeypatch.setenv("SKEWLESS_PROJECT", embedded_settings.project)
    monkeypatch.setenv("SKEWLESS_FEATURES", "tests.online.views")
    assert main(["get", "--view", "user_stats", "--key", "user_id=5", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["results"][0]["statuses"][0] == "MISSING"  # nothing published yet
    # Redis 6 keeps one appendonly.aof; Redis 7 (Debian's) a multi-part appendonlydir/.
    folder = server_dir(embedded_settings)
    assert (folder / "appendonly.aof").exists() or (folder / "appendonlydir").is_dir()


def test_redis_status_and_stop_commands(embedded_settings, monkeypatch, capsys):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(embedded_settings.data_root))
    assert main(["redis", "status"]) == 0
    assert "no embedded redis-server is running" in capsys.readouterr().out
    online_url(embedded_settings)  # what any online command does: start it
    pid = json.loads((server_dir(embedded_settings) / "server.json").read_text())["pid"]
    assert main(["redis", "status"]) == 0
    out = capsys.readouterr().out
    assert f"embedded redis-server running: pid {pid}" in out
    assert "python -m feature_jobs redis stop" in out
    assert main(["redis", "stop"]) == 0
    assert f"stopped the embedded redis-server (pid {pid})" in capsys.readouterr().out
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # really gone
    assert main(["redis", "stop"]) == 0
    assert "no embedded redis-server was running" in capsys.readouterr().out
    monkeypatch.setenv("REDIS_URL", "redis://:secret@example.invalid:6379/0")
    assert main(["redis", "status"]) == 0
    out = capsys.readouterr().out
    assert "REDIS_URL is set" in out and "secret" not in out

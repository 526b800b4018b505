"""Security: a Redis ACL split (writer for sync, read-only for serving) enforced by the
server; credentials only from the environment and never in output, logs or alerts."""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from feature_jobs.errors import OnlineStoreError
from feature_jobs.online.connection import acl_rules
from feature_jobs.online.store import FeatureStore
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from tests.reliability.history import D1, D2
from tests.reliability.invariants import (
    READ_AT,
    REGISTRY,
    USER_STATS,
    assert_redis_serves,
    offline_values,
    read_all,
)
from tests.reliability.processes import cli_env, start
from tests.support.redis_server import RedisServer

ADMIN = "admin-" + secrets.token_hex(8)
WRITER = "writer-" + secrets.token_hex(8)
READER = "reader-" + secrets.token_hex(8)


@pytest.fixture
def acl_server(tmp_path: Path, warehouse: Settings) -> Iterator[RedisServer]:
    project = warehouse.project
    server = RedisServer(
        tmp_path / "acl-redis",
        [
            "--requirepass", ADMIN,
            "--user", "skewless-writer", f">{WRITER}", *acl_rules("writer", project),
            "--user", "skewless-reader", f">{READER}", *acl_rules("reader", project),
        ],
    ).start()  # fmt: skip
    yield server
    server.stop()


def url(server: RedisServer, user: str, password: str) -> str:
    return f"redis://{user}:{password}@127.0.0.1:{server.port}/0"


def denied(call) -> str:  # type: ignore[no-untyped-def]
    """The server's refusal of ``call`` (it must refuse)."""
    with pytest.raises(redis.ResponseError) as info:
        call()
    message = str(info.value)
    assert re.search(r"no permissions|can't run this command|can't access|NOPERM", message), message
    return message


def test_acl_split_writer_syncs_reader_only_reads(
    spark, warehouse: Settings, acl_server: RedisServer
) -> None:
    project = warehouse.project
    writer = dataclasses.replace(warehouse, redis_url=url(acl_server, "skewless-writer", WRITER))
    reader = dataclasses.replace(warehouse, redis_url=url(acl_server, "skewless-reader", READER))
    admin = redis.Redis(port=acl_server.port, password=ADMIN)
    admin.set("{other:user_stats}:live", "another project's key")

    assert sync(spark, writer, USER_STATS, D2, run_id="writer").published
    store = FeatureStore(reader, clock=lambda: READ_AT, registry=REGISTRY)
    expected = offline_values(spark, warehouse, USER_STATS, D2)
    assert read_all(store, USER_STATS, sorted(expected))[1] == expected
    store.close()

    # The serving user cannot publish: the sync fails in one line, nothing changes.
    with pytest.raises(OnlineStoreError, match="denied the ACL user") as info:
        sync(spark, reader, USER_STATS, D1, run_id="reader")
    assert READER not in str(info.value)

    live = "{" + project + ":user_stats}:live"
    r = redis.Redis.from_url(reader.redis_url or "")
    assert r.hget(live, "token")  # reading the project's keys is what it is for
    for call in (
        lambda: r.set("{" + project + ":user_stats}:x", "1"),
        lambda: r.hset(live, "token", "forged"),
        lambda: r.delete(live),
        lambda: r.flushall(),
        lambda: r.config_get("*"),
        lambda: r.keys("*"),
        lambda: r.scan(0),
        lambda: r.eval("return redis.call('DEL', KEYS[1])", 1, live),
        lambda: r.get("{other:user_stats}:live"),
    ):
        denied(call)
    w = redis.Redis.from_url(writer.redis_url or "")
    for call in (
        lambda: w.flushall(),
        lambda: w.config_set("maxmemory", "1"),
        lambda: w.keys("*"),
        lambda: w.scan(0),
        lambda: w.get("{other:user_stats}:live"),
        lambda: w.set("{other:user_stats}:live", "overwritten"),
        lambda: w.eval("return redis.call('FLUSHALL')", 0),
        lambda: w.eval("return redis.call('SET', '{other:user_stats}:live', 'x')", 0),
    ):
        denied(call)
    assert admin.get("{other:user_stats}:live") == b"another project's key"
    assert_redis_serves(writer, w, USER_STATS, D2, expected)


def test_credentials_never_appear_in_output_logs_or_alerts(
    warehouse: Settings, acl_server: RedisServer, tmp_path: Path
) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    s3_secret = "s3secret" + secrets.token_hex(8)
    hook_token = "hooktoken" + secrets.token_hex(8)
    alerts = tmp_path / "alerts.jsonl"
    writer_url = url(acl_server, "skewless-writer", WRITER)
    base = cli_env(
        warehouse,
        REDIS_URL=writer_url,
        SKEWLESS_ALERT_JSONL=str(alerts),
        SKEWLESS_ALERT_WEBHOOK=f"http://127.0.0.1:9/hooks/{hook_token}",
    )
    steps = [
        {"env": {}, "args": ["sync", "--view", "user_stats", "--date", str(D2)]},
        {"env": {}, "args": ["check", "--view", "user_stats", "--date", str(D2)]},
        {"env": {"REDIS_URL": url(acl_server, "skewless-reader", READER)},
         "args": ["get", "--view", "user_stats", "--key", "user_id=1"]},
        {"env": {"REDIS_URL": url(acl_server, "skewless-reader", READER)},
         "args": ["sync", "--view", "user_stats", "--date", str(D1)]},
        {"env": {"REDIS_URL": url(acl_server, "skewless-writer", wrong)},
         "args": ["sync", "--view", "user_stats", "--date", str(D1)]},
        {"env": {"REDIS_URL": writer_url,
                 "DELTA_ROOT": f"s3a://AKIAEXAMPLE:{s3_secret}@bucket/warehouse"},
         "args": ["sync", "--view", "user_stats"]},
    ]  # fmt: skip
    plan = tmp_path / "steps.json"
    plan.write_text(json.dumps(steps))
    log = tmp_path / "run.log"
    process = start([str(plan)], base, log, module="tests.reliability.cli_sequence")
    process.wait(timeout=900)
    output = log.read_text()
    codes = [int(c) for c in re.findall(r"^step \d+ exit (\d+)$", output, re.M)]
    assert codes[:3] == [0, 0, 0], output[-3000:]
    assert all(code != 0 for code in codes[3:]) and len(codes) == 6, output[-3000:]
    assert "denied the ACL user" in output and "refused the credentials" in output

    sent = alerts.read_text() if alerts.exists() else ""
    assert sent.count('"sync.') >= 2  # the refused syncs alerted (their text is checked too)
    everything = (
        output
        + sent
        + "".join(
            p.read_text(errors="replace")
            for p in warehouse.data_root.rglob("*")
            if p.is_file() and p.suffix in {".json", ".log", ".jsonl", ".crc", ".txt", ""}
        )
    )
    for secret in (WRITER, READER, wrong, s3_secret, hook_token, ADMIN):
        assert secret not in everything, f"a credential leaked: {secret[:6]}..."


def test_airflow_tasks_carry_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spark-submit task gets REDIS_URL from its environment, never in its fields."""
    monkeypatch.setenv("REDIS_URL", f"redis://skewless-writer:{WRITER}@redis:6379/0")
    from feature_jobs.airflow_support.daily import step_args
    from feature_jobs.airflow_support.spark_jobs import feature_job

    task = feature_job("sync", step_args("sync", "user_stats"), Settings.from_env(), name="sync")
    fields = {name: getattr(task, name, None) for name in task.template_fields}
    assert WRITER not in repr(fields) and WRITER not in repr(vars(task))


def test_redaction_of_text_and_log_records(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    import logging

    from feature_jobs.redaction import install_log_redaction, redact_text

    monkeypatch.setenv("REDIS_URL", f"rediss://skewless-writer:{WRITER}@redis:6380/0")
    monkeypatch.setenv("SKEWLESS_ALERT_WEBHOOK", f"https://hooks.example/T0/B0/{READER}")
    text = (
        f"no table at s3a://AKIAEXAMPLE:{ADMIN}@bucket/wh; password {WRITER}; "
        f"hook https://hooks.example/T0/B0/{READER}"
    )
    assert (
        redact_text(text) == "no table at s3a://AKIAEXAMPLE:***@bucket/wh; password ***; hook ***"
    )
    install_log_redaction()
    logging.getLogger("skewless.test").error("failed with %s", text)
    logged = caplog.records[-1].getMessage()
    assert all(secret not in logged for secret in (ADMIN, WRITER, READER))

"""Key safety: adversarial ids never collide, projects are isolated, ACL/password URLs."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feature_jobs.errors import OnlineRequestError, OnlineStoreError
from feature_jobs.online.connection import connect
from feature_jobs.online.keys import encode_entity
from feature_jobs.online.store import FeatureStore
from feature_jobs.online.sync import sync
from feature_jobs.serving_rule import Status
from tests.online.offline import write_snapshot
from tests.online.views import REGISTRY, pair_stats, user_stats
from tests.support.redis_server import RedisServer

DAY = date(2024, 3, 1)

ADVERSARIAL_PAIRS = [
    ("a:b", "c"),
    ("a", "b:c"),
    ("a:b:c", ""),
    ("", "a:b:c"),
    ("1:a", ""),
    ("", "1:a"),
    ("*", "\n"),
    ("\n", "*"),
    ("{x}", "[y]?"),
    ("日本", "ü"),
    ("日", "本ü"),
    ("a\r\nb", "\x00"),
]


@given(
    st.tuples(st.text(), st.text()),
    st.tuples(st.text(), st.text()),
)
def test_composite_encoding_is_injective(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert (encode_entity(a) == encode_entity(b)) == (a == b)


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=2, max_size=2))
def test_long_encoding_is_injective(ids: list[int]) -> None:
    assert (encode_entity([ids[0]]) == encode_entity([ids[1]])) == (ids[0] == ids[1])


def test_known_colliding_shapes_differ() -> None:
    assert encode_entity(["a:b", "c"]) == b"3:a:b1:c"
    assert encode_entity(["a", "b:c"]) == b"1:a3:b:c"


def test_adversarial_composite_ids_read_back_their_own_values(
    spark, online_settings, store_factory
):
    rows = [
        {"left_id": left, "right_id": right, "pair_amount_7d": float(i) + 0.5}
        for i, (left, right) in enumerate(ADVERSARIAL_PAIRS)
    ]
    write_snapshot(spark, online_settings, pair_stats, DAY, rows)
    assert sync(spark, online_settings, pair_stats, DAY).rows == len(rows)
    entities = [{"left_id": left, "right_id": right} for left, right in ADVERSARIAL_PAIRS]
    entities.append({"left_id": "a:", "right_id": "b:c"})  # looks like a neighbour, is absent
    response = store_factory().get_online_features(["pair_stats:pair_amount_7d"], entities)
    assert [v[0] for v in response.values] == [i + 0.5 for i in range(len(rows))] + [None]
    assert response.statuses[-1] == [Status.MISSING]
    assert all(s == [Status.PRESENT] for s in response.statuses[:-1])


def test_two_projects_on_one_redis_never_see_each_other(
    spark, online_settings, client, store_factory
):
    other = dataclasses.replace(online_settings, project=online_settings.project + "-b")
    write_snapshot(spark, online_settings, user_stats, DAY, [{"user_id": 1, "txn_count_7d": 11}])
    sync(spark, online_settings, user_stats, DAY)
    write_snapshot(spark, other, user_stats, DAY, [{"user_id": 1, "txn_count_7d": 22}])
    sync(spark, other, user_stats, DAY)

    mine = store_factory().get_online_features(["user_stats:txn_count_7d"], [{"user_id": 1}])
    theirs = store_factory(other).get_online_features(["user_stats:txn_count_7d"], [{"user_id": 1}])
    assert mine.values == [[11]] and theirs.values == [[22]]
    prefix_a = "{" + online_settings.project + ":"
    prefix_b = "{" + other.project + ":"
    keys_a = set(client.scan_iter(match=prefix_a + "*"))
    keys_b = set(client.scan_iter(match=prefix_b + "*"))
    assert keys_a and keys_b and not keys_a & keys_b
    assert not any(k.startswith(prefix_b.encode()) for k in keys_a)
    assert not any(k.startswith(prefix_a.encode()) for k in keys_b)


def test_every_key_has_a_ttl(spark, online_settings, client):
    write_snapshot(spark, online_settings, user_stats, DAY, [{"user_id": i} for i in range(200)])
    sync(spark, online_settings, user_stats, DAY)
    keys = list(client.scan_iter(match="{" + online_settings.project + ":*"))
    assert len(keys) > 4  # pointer, registry, metadata and several buckets
    assert all(client.pttl(k) > 0 for k in keys)


def test_wrong_key_types_and_missing_keys_are_refused(online_settings, store_factory):
    store = store_factory()
    for row, message in [
        ({"user_id": "42"}, "must be an integer"),
        ({"user_id": True}, "must be an integer"),
        ({"user_id": 4.0}, "must be an integer"),
        ({"user_id": 2**63}, "does not fit a long"),
        ({"userid": 42}, "has no 'user_id'"),
    ]:
        with pytest.raises(OnlineRequestError, match=message):
            store.get_online_features(["user_stats:txn_count_7d"], [row])
    with pytest.raises(OnlineRequestError, match="must be a string"):
        store.get_online_features(["pair_stats:pair_amount_7d"], [{"left_id": 1, "right_id": "x"}])
    with pytest.raises(OnlineRequestError, match="no feature 'nope'"):
        store.get_online_features(["user_stats:nope"], [{"user_id": 1}])
    with pytest.raises(OnlineRequestError, match="unknown feature service"):
        store.get_online_features("no_such_service", [{"user_id": 1}])


@pytest.fixture
def acl_server(tmp_path, online_settings):
    project = online_settings.project
    # An ACL user that may only touch this project's keys (Lua scripts included).
    server = RedisServer(
        tmp_path / "acl-redis",
        [
            "--requirepass",
            "default-secret",
            "--user",
            "svc",
            "on",
            ">s3cret pw",
            "~{" + project + ":*",
            "+@all",
        ],
    ).start()
    yield server
    server.stop()


def test_acl_user_through_redis_url_syncs_and_reads(spark, online_settings, acl_server, clock):
    url = f"redis://svc:s3cret%20pw@127.0.0.1:{acl_server.port}/0"
    settings = dataclasses.replace(online_settings, redis_url=url)
    write_snapshot(spark, settings, user_stats, DAY, [{"user_id": 7, "txn_count_7d": 3}])
    assert sync(spark, settings, user_stats, DAY).published
    store = FeatureStore(settings, clock=clock, registry=REGISTRY)
    assert store.get_online_features(["user_stats:txn_count_7d"], [{"user_id": 7}]).values == [[3]]
    store.close()
    # The same user may not touch another project's keys: Redis says so, in one line.
    other = dataclasses.replace(settings, project="someone-else")
    with pytest.raises(OnlineStoreError, match="denied the ACL user") as info:
        FeatureStore(other, clock=clock, registry=REGISTRY).get_online_features(
            ["user_stats:txn_count_7d"], [{"user_id": 7}]
        )
    assert "s3cret" not in str(info.value)


def test_wrong_password_fails_with_one_clear_line(acl_server):
    for url in (
        f"redis://svc:wrong@127.0.0.1:{acl_server.port}/0",
        f"redis://:wrong@127.0.0.1:{acl_server.port}/0",
    ):
        with pytest.raises(OnlineStoreError) as info:
            connect(url)
        message = str(info.value)
        assert "refused the credentials" in message and "REDIS_URL" in message
        assert "wrong" not in message and "\n" not in message
    with pytest.raises(OnlineStoreError, match="refused the credentials"):
        connect(f"redis://127.0.0.1:{acl_server.port}/0")  # no password at all


def test_unreachable_server_fails_with_one_clear_line(tmp_path):
    server = RedisServer(tmp_path / "gone").start()
    port = server.port
    server.stop()
    with pytest.raises(OnlineStoreError, match=f"cannot reach Redis at redis://127.0.0.1:{port}"):
        connect(f"redis://127.0.0.1:{port}/0", timeout=2)

"""rediss:// (TLS) with an ACL user: a full sync and a read through REDIS_URL."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from datetime import date, timedelta

import pytest

from feature_jobs.errors import OnlineStoreError
from feature_jobs.online.connection import connect
from feature_jobs.online.store import FeatureStore
from feature_jobs.online.sync import sync
from tests.online.conftest import Clock
from tests.online.offline import snapshot_ts, write_snapshot
from tests.online.views import REGISTRY, user_stats
from tests.support.redis_server import RedisServer

D1 = date(2024, 3, 1)


@pytest.fixture
def tls_server(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path / "tls"
    folder.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = RedisServer(folder, [])
    server.extra_args = [
        "--port", "0", "--tls-port", str(server.port),
        "--tls-cert-file", str(folder / "cert.pem"), "--tls-key-file", str(folder / "key.pem"),
        "--tls-ca-cert-file", str(folder / "cert.pem"), "--tls-auth-clients", "no",
        "--user", "svc", "on", ">tls pw", "~*", "+@all",
    ]  # fmt: skip
    try:
        server.start()
    except RuntimeError:
        server.stop()
        pytest.skip(
            f"this redis-server has no TLS support: {(folder / 'redis.log').read_text()[-200:]}"
        )
    yield server, folder / "cert.pem"
    server.stop()


def test_sync_and_read_over_tls_with_an_acl_user(spark, online_settings, tls_server):
    server, ca = tls_server
    url = f"rediss://svc:tls%20pw@127.0.0.1:{server.port}/0?ssl_ca_certs={ca}"
    settings = dataclasses.replace(online_settings, redis_url=url)
    write_snapshot(spark, settings, user_stats, D1, [{"user_id": 3, "txn_count_7d": 9}])
    assert sync(spark, settings, user_stats, D1).published
    store = FeatureStore(
        settings, clock=Clock(snapshot_ts(D1) + timedelta(hours=1)), registry=REGISTRY
    )
    assert store.get_online_features(["user_stats:txn_count_7d"], [{"user_id": 3}]).values == [[9]]
    store.close()
    # Without the CA the server's certificate is refused, in one line, password hidden.
    with pytest.raises(OnlineStoreError, match="CERTIFICATE_VERIFY_FAILED") as info:
        connect(f"rediss://svc:tls%20pw@127.0.0.1:{server.port}/0", timeout=3)
    assert "tls%20pw" not in str(info.value) and "tls pw" not in str(info.value)

"""The feature catalog pages over a real warehouse (Spark-built Delta, real redis-server).

Every view is listed with its facts; a view's page charts one point per snapshot the gate
judged, marks the quarantined days, and says what is live online; an unknown view is a
404 with one line; with Redis down the pages still render ("online: unavailable").
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feature_jobs.definitions import build_registry, load_registry
from feature_jobs.offline import profiles_table, read_offline
from feature_jobs.offline.catalog_reads import CatalogReads
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.app import create_app
from feature_jobs.settings import Settings
from feature_jobs.timeutil import day_start
from tests.serving.conftest import BAD, DAYS, PUBLISHED, SYNCED, Warehouse, fixed_clock
from tests.support.fresh_process import run_fresh
from tests.support.redis_server import free_port

REGISTRY = load_registry("features")
VIEW = "user_transaction_stats"


@pytest.fixture
def http(warehouse: Warehouse) -> Iterator[TestClient]:
    store = FeatureStore(warehouse.settings, clock=fixed_clock, timeout=2.0)
    with TestClient(create_app(store)) as client:
        yield client
    store.close()


def _judged(spark: SparkSession, settings: Settings, view: str) -> dict[datetime, str]:
    """feature_ts -> status of the gate's runs of ``view``, read with Spark."""
    rows = (
        spark.read.format("delta").load(profiles_table(settings))
        .where(F.col("view") == view).select("feature_ts", "status").distinct().collect()
    )  # fmt: skip
    return {r["feature_ts"]: r["status"] for r in rows}


def _recorded_psi(spark: SparkSession, settings: Settings, view: str) -> dict[str, int]:
    """How many PSI values the gate recorded for the passed snapshots of ``view``, per
    feature."""
    table = spark.read.format("delta").load(profiles_table(settings))
    passed = (F.col("view") == view) & (F.col("status") == "passed")
    rows = table.where(passed & F.col("psi").isNotNull()).groupBy("column")
    return {r["column"]: r["count"] for r in rows.count().collect()}


def _figures(page: str) -> dict[str, str]:
    """Each chart's HTML by its caption."""
    found = re.findall(r'<figure class="chart[^"]*"><figcaption>(.*?)</figcaption>(.*?)</figure>',
                       page, re.S)  # fmt: skip
    return dict(found)


def test_the_index_lists_every_view_with_its_facts(
    http: TestClient, spark: SparkSession, warehouse: Warehouse
) -> None:
    reply = http.get("/catalog")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    rows = re.findall(r"<tr>(.*?)</tr>", reply.text, re.S)[1:]
    assert len(rows) == len(REGISTRY.views) == 3
    for name, row in zip(sorted(REGISTRY.views), rows, strict=True):
        view = REGISTRY.views[name]
        newest = read_offline(spark, warehouse.settings, view).agg(F.max("snapshot_date")).first()
        assert newest is not None
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        assert cells[:7] == [
            name, view.description, view.owner, view.version, "daily",
            {"user_transaction_stats": "2d", "merchant_transaction_stats": "3d"}.get(name, "1d"),
            newest[0].isoformat(),
        ]  # fmt: skip
        assert f'href="/catalog/{name}"' in row
        judged = _judged(spark, warehouse.settings, name)
        assert cells[9].endswith(f"{len(judged)} snapshot(s)")
        quarantined = sum(1 for s in judged.values() if s == "quarantined")
        assert quarantined >= 1 and cells[10].startswith(str(quarantined))
        if name in SYNCED:
            feature_ts = day_start(PUBLISHED) + timedelta(days=1)
            assert cells[7].startswith(f"{feature_ts:%Y-%m-%d %H:%M} UTC / published 20")
            assert cells[8] == f"fresh: 6h 0m old, max age {cells[5]}"
        else:
            assert (cells[7], cells[8]) == ("not published", "nothing published")


def test_a_view_page_charts_one_point_per_judged_snapshot(
    http: TestClient, spark: SparkSession, warehouse: Warehouse
) -> None:
    judged = _judged(spark, warehouse.settings, VIEW)
    assert len(judged) == len(DAYS)
    refused = sum(1 for status in judged.values() if status == "quarantined")
    assert refused >= 1
    page = http.get(f"/catalog/{VIEW}").text
    charts = _figures(page)
    assert list(charts) == [
        "Rows per snapshot", "Null rate per feature",
        "Drift: PSI as the gate recorded it (snapshots that passed)",
        "Drift: mean shift % against the previous snapshot that passed",
    ]  # fmt: skip
    rows = charts["Rows per snapshot"]
    assert rows.count('<rect class="bar') == len(DAYS)
    assert rows.count('<rect class="bar flagged"') == refused
    view = REGISTRY.views[VIEW]
    nulls = charts["Null rate per feature"]
    assert nulls.count('<path class="series"') == len(view.features)
    assert nulls.count('<circle class="point"') == len(view.features) * len(DAYS)
    assert nulls.count('<rect class="flag-band"') == refused
    for feature in view.features:
        assert f"{feature.name} {DAYS[0] + timedelta(days=1):%Y-%m-%d} 00:00 UTC:" in nulls
    numeric = [f for f in view.features if view.output_type(f.name) != "string"]
    psi = charts["Drift: PSI as the gate recorded it (snapshots that passed)"]
    recorded = _recorded_psi(spark, warehouse.settings, VIEW)
    assert recorded and set(recorded) <= {f.name for f in numeric}
    # A line per feature with a PSI (the gate skips some, e.g. short windows early on).
    assert psi.count('<path class="series"') == len(recorded)
    assert psi.count('<circle class="point"') == sum(recorded.values())
    assert 'class="threshold"' in psi
    shift = charts["Drift: mean shift % against the previous snapshot that passed"]
    # Drift of the passed snapshots; the first has no earlier one (and it passed).
    assert shift.count('<circle class="point"') == len(numeric) * (len(DAYS) - refused - 1)
    for chart in (psi, shift):
        assert chart.count('<rect class="flag-band"') == refused


def test_a_quarantined_day_is_marked(http: TestClient, warehouse: Warehouse) -> None:
    assert VIEW in warehouse.refused
    page = http.get(f"/catalog/{VIEW}").text
    table = page.split("<h2>Quarantined snapshots")[1].split("<h2>")[0]
    days = re.findall(r'<span class="badge quarantined">(\d{4}-\d\d-\d\d)</span>', table)
    assert BAD.isoformat() in days
    assert all(date.fromisoformat(d) >= BAD for d in days)
    assert "in_range(0.0, 100000.0)" in table  # the blocking check's message
    assert "quarantined" in page.split("<h2>Checks that tripped")[1]


def test_unknown_view_is_a_404_with_one_line(http: TestClient) -> None:
    reply = http.get("/catalog/no_such_view")
    assert reply.status_code == 404
    assert reply.text == (
        "unknown feature view 'no_such_view'; known views: merchant_transaction_stats, "
        "user_risk_signals, user_transaction_stats\n"
    )


def test_pages_render_with_redis_down(warehouse: Warehouse) -> None:
    down = dataclasses.replace(warehouse.settings, redis_url=f"redis://127.0.0.1:{free_port()}")
    store = FeatureStore(down, clock=fixed_clock, timeout=0.5)
    with TestClient(create_app(store)) as client:
        index = client.get("/catalog")
        page = client.get(f"/catalog/{VIEW}")
    assert index.status_code == page.status_code == 200
    assert index.text.count("online: unavailable") == 1 + len(REGISTRY.views)  # banner + rows
    assert "cannot reach Redis at redis://127.0.0.1:" in index.text
    assert "online: unavailable" in page.text and "unknown: online unavailable" in page.text
    assert page.text.count('<rect class="bar') == len(DAYS)  # the offline side still shows


def test_pages_render_in_well_under_a_second(http: TestClient) -> None:
    for path in ("/catalog", f"/catalog/{VIEW}"):
        http.get(path)  # the first read of each table
        started = time.perf_counter()
        assert http.get(path).status_code == 200
        assert time.perf_counter() - started < 1.0


def test_offline_state_comes_from_the_log_and_agrees_with_spark(
    spark: SparkSession, warehouse: Warehouse
) -> None:
    reads = CatalogReads(warehouse.settings)
    view = REGISTRY.views[VIEW]
    state = reads.offline_state(VIEW)
    assert state is not None
    table = read_offline(spark, warehouse.settings, view)
    assert state.rows == table.count()
    assert state.snapshot_dates == table.select("snapshot_date").distinct().count()
    newest = table.agg(F.max("snapshot_date")).first()
    assert newest is not None and state.last_snapshot_date == newest[0]
    assert reads.offline_state("never_materialized") is None
    # Cached per Delta version: the same answer object until the table changes.
    assert reads.gate_runs() is reads.gate_runs()


def test_text_from_definitions_is_escaped(warehouse: Warehouse) -> None:
    view = dataclasses.replace(
        REGISTRY.views[VIEW], description='<script>alert("x")</script> & co', owner="<b>team</b>"
    )
    registry = build_registry([view.entity, view.source, view])
    store = FeatureStore(warehouse.settings, clock=fixed_clock, registry=registry)
    with TestClient(create_app(store)) as client:
        pages = [client.get("/catalog").text, client.get(f"/catalog/{VIEW}").text]
    store.close()
    for page in pages:
        assert "<script>" not in page and "<b>team" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
        assert "&lt;b&gt;team&lt;/b&gt;" in page


def test_the_catalog_never_imports_spark(warehouse: Warehouse) -> None:
    settings = warehouse.settings
    code = f"""
import sys
from fastapi.testclient import TestClient
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.app import create_app
from feature_jobs.settings import Settings
settings = Settings.from_env()
client = TestClient(create_app(FeatureStore(settings)))
assert client.get("/catalog").status_code == 200
assert client.get("/catalog/{VIEW}").text.count('<rect class="bar') == {len(DAYS)}
print("spark imported:", "pyspark" in sys.modules)
"""
    out = run_fresh(
        code, settings.data_root, SKEWLESS_PROJECT=settings.project,
        REDIS_URL=settings.redis_url or "",
    )  # fmt: skip
    assert "spark imported: False" in out

"""The bookkeeping tables: profiles and quarantine, appended and read back through the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pyspark.sql import SparkSession

from feature_jobs.offline import (
    BatchKey,
    ProfileRow,
    ReportedCheck,
    append_batch_rows,
    append_profiles,
    append_report,
    passed_profiles,
    profiles_table,
    quarantine_rows_table,
    quarantine_table,
    report_location,
    sync_log_table,
    view_table,
    views_folder,
)
from feature_jobs.settings import Settings

TS = datetime(2024, 3, 2, tzinfo=UTC)
KEY = BatchKey("g1", "run1", "spend", date(2024, 3, 1), TS, "v1")


def profile(feature_ts: datetime, status: str = "passed", version: str = "v1") -> ProfileRow:
    return ProfileRow(
        view="spend", feature_ts=feature_ts, snapshot_date=(feature_ts - timedelta(days=1)).date(),
        run_id="run1", gate_id=f"g{feature_ts:%d}", definition_version=version, status=status,
        column="spend_7d", row_count=10, null_count=1, null_rate=0.1, mean=2.5, min=0.0,
        max=5.0, percentiles=[1.0, 2.0], psi=None, profiled_at=feature_ts + timedelta(hours=1),
    )  # fmt: skip


def test_every_table_has_its_own_place_in_the_warehouse(settings: Settings) -> None:
    tables = [
        view_table(settings, "spend"),
        sync_log_table(settings),
        profiles_table(settings),
        quarantine_table(settings),
        quarantine_rows_table(settings),
    ]
    assert len(set(tables)) == len(tables)
    assert all(t.startswith(settings.delta_root + "/") for t in tables)
    assert view_table(settings, "spend").startswith(views_folder(settings) + "/")
    assert report_location(settings, "g1") == f"{quarantine_table(settings)} where gate_id='g1'"


def test_passed_profiles_keep_one_view_version_and_time_window(
    spark: SparkSession, settings: Settings
) -> None:
    assert passed_profiles(spark, settings, "spend", "v1", TS - timedelta(days=9), TS) == []
    kept = profile(TS - timedelta(days=2))
    append_profiles(
        spark,
        settings,
        [
            kept,
            profile(TS - timedelta(days=1), status="quarantined"),
            profile(TS - timedelta(days=1), version="v0"),
            profile(TS),  # not before TS
            profile(TS - timedelta(days=20)),  # before the window
        ],
    )

    found = passed_profiles(spark, settings, "spend", "v1", TS - timedelta(days=9), TS)
    assert [(p.gate_id, p.percentiles, p.psi) for p in found] == [(kept.gate_id, [1.0, 2.0], None)]
    assert found[0].feature_ts.replace(tzinfo=UTC) == kept.feature_ts  # the session is UTC


def test_a_report_and_a_refused_batch_are_kept_with_their_batch_key(
    spark: SparkSession, settings: Settings
) -> None:
    check = ReportedCheck(
        check="not_null", column="spend_7d", kind="row", blocking=True, failing_rows=2,
        total_rows=10, observed=None, baseline=None, threshold=None, message="2 nulls",
        sample=('{"user_id":1,"spend_7d":null}',),
    )  # fmt: skip
    append_report(spark, settings, KEY, [check], TS)
    batch = spark.createDataFrame(
        [('{"user_id":1}', ["not_null[spend_7d]"]), ('{"user_id":2}', [])],
        "row STRING, failed_checks ARRAY<STRING>",
    )
    append_batch_rows(settings, KEY, batch, TS)

    [report] = spark.read.format("delta").load(quarantine_table(settings)).collect()
    assert (report["gate_id"], report["view"], report["check"], report["failing_rows"]) == (
        "g1", "spend", "not_null", 2,
    )  # fmt: skip
    assert report["sample"] == ['{"user_id":1,"spend_7d":null}']
    rows = spark.read.format("delta").load(quarantine_rows_table(settings)).collect()
    assert sorted((r["row"], tuple(r["failed_checks"]), r["gate_id"]) for r in rows) == [
        ('{"user_id":1}', ("not_null[spend_7d]",), "g1"),
        ('{"user_id":2}', (), "g1"),
    ]
    assert rows[0].__fields__ == [
        "gate_id", "run_id", "view", "snapshot_date", "feature_ts", "row", "failed_checks",
        "quarantined_at",
    ]  # fmt: skip

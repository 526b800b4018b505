"""materialize(view, date) on hand-made events whose answers are known."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from feature_jobs.errors import SourceDataError, TimeSemanticsError
from feature_jobs.materialize import materialize, materialize_range
from feature_jobs.offline import read_offline, view_table
from feature_jobs.settings import Settings
from tests.feature_jobs.tiny_domain import event, tx_source, user_view, utc, write_events

DAY = date(2026, 1, 10)
C = utc(2026, 1, 11)  # feature_ts of DAY
NOW = utc(2026, 12, 1)


def snapshot_rows(spark, settings: Settings, view) -> dict[int, dict]:  # type: ignore[no-untyped-def]
    frame = read_offline(spark, settings, view).toPandas()
    return {int(row["user_id"]): row.to_dict() for _, row in frame.iterrows()}


def test_window_boundaries_include_start_and_exclude_c(spark, settings: Settings) -> None:
    view = user_view()
    write_events(
        settings.data_root,
        [
            event("at-c", 1, 1000.0, C),  # exactly C: not yet known at C
            event("c-1d", 1, 10.0, C - timedelta(days=1)),  # exactly C-1d: in the 1d window
            event("c-1d-1us", 1, 20.0, C - timedelta(days=1, microseconds=1), country="DE"),
            event("c-7d", 1, 30.0, C - timedelta(days=7), country="ES"),  # in the 7d window
            event("c-7d-1s", 1, 5000.0, C - timedelta(days=7, seconds=1)),  # outside every window
            event("old-only", 2, 1.0, C - timedelta(days=8)),  # user 2 has no event in scope
        ],
    )
    [result] = materialize(spark, settings, view, DAY, now=NOW)
    assert result.feature_ts == C
    assert result.rows == 1
    rows = snapshot_rows(spark, settings, view)
    assert set(rows) == {1}
    user = rows[1]
    assert user["count_1d"] == 1
    assert user["count_7d"] == 3
    assert user["sum_7d"] == pytest.approx(60.0)
    assert user["avg_7d"] == pytest.approx(20.0)
    assert user["min_1d"] == pytest.approx(10.0)
    assert user["max_7d"] == pytest.approx(30.0)
    assert user["countries_7d"] == 3
    assert user["last_country_7d"] == "FR"
    assert pd.Timestamp(user["feature_ts"]).tz_localize("UTC") == pd.Timestamp(C)
    assert user["snapshot_date"] == DAY
    assert user["definition_version"] == view.version
    assert user["run_id"] == result.run_id


@pytest.mark.parametrize("dst_day", [date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25)])
def test_dst_dates_are_plain_utc_days(spark, settings: Settings, dst_day: date) -> None:
    view = user_view()
    midnight = utc(dst_day.year, dst_day.month, dst_day.day) + timedelta(days=1)
    write_events(
        settings.data_root,
        [
            event("start", 1, 1.0, midnight - timedelta(hours=24)),  # 00:00 UTC of the day
            event("late-evening", 1, 2.0, midnight - timedelta(minutes=30)),
            event("after", 1, 4.0, midnight + timedelta(minutes=30)),  # next UTC day
            event("before", 1, 8.0, midnight - timedelta(hours=24, minutes=1)),
        ],
    )
    [result] = materialize(spark, settings, view, dst_day, now=NOW)
    assert result.feature_ts == midnight
    user = snapshot_rows(spark, settings, view)[1]
    assert user["count_1d"] == 2
    assert user["count_7d"] == 3
    assert user["sum_7d"] == pytest.approx(11.0)


def test_last_breaks_time_ties_by_dedup_key(spark, settings: Settings) -> None:
    view = user_view()
    moment = C - timedelta(hours=2)
    write_events(
        settings.data_root,
        [event("b", 1, 1.0, moment, country="BE"), event("a", 1, 1.0, moment, country="AT")],
    )
    materialize(spark, settings, view, DAY, now=NOW)
    assert snapshot_rows(spark, settings, view)[1]["last_country_7d"] == "BE"


def test_duplicate_delivery_counts_once_and_newest_delivery_wins(spark, settings: Settings) -> None:
    view = user_view()
    moment = C - timedelta(hours=3)
    write_events(
        settings.data_root,
        [
            event("t1", 1, 10.0, moment),
            event("t1", 1, 10.0, moment, ingested_after=timedelta(days=2)),  # redelivered
            event("t2", 1, 50.0, moment, ingested_after=timedelta(minutes=1)),
            event("t2", 1, 70.0, moment, ingested_after=timedelta(hours=5)),  # corrected amount
        ],
    )
    materialize(spark, settings, view, DAY, now=NOW)
    user = snapshot_rows(spark, settings, view)[1]
    assert user["count_1d"] == 2
    assert user["sum_7d"] == pytest.approx(80.0)


def test_rematerializing_is_idempotent_and_late_events_replace_values(
    spark, settings: Settings
) -> None:
    view = user_view()
    write_events(
        settings.data_root,
        [event("t1", 1, 10.0, C - timedelta(hours=1)), event("t2", 2, 5.0, C - timedelta(days=2))],
    )
    other_day = DAY - timedelta(days=1)
    materialize(spark, settings, view, other_day, now=NOW)
    [first] = materialize(spark, settings, view, DAY, now=NOW)
    table = read_offline(spark, settings, view)
    content_columns = [c for c in table.columns if c not in ("run_id", "materialized_at")]
    before = sorted(map(tuple, table.select(content_columns).collect()))
    [second] = materialize(spark, settings, view, DAY, now=NOW)
    table = read_offline(spark, settings, view)
    after = sorted(map(tuple, table.select(content_columns).collect()))
    assert after == before
    assert second.delta_version == first.delta_version + 1
    assert table.where(f"snapshot_date = '{DAY}'").count() == 2
    assert table.where(f"snapshot_date = '{other_day}'").count() == 1

    # A late event (known only now, but with an event time before C) changes the snapshot.
    write_events(
        settings.data_root,
        [event("late", 1, 100.0, C - timedelta(hours=5), ingested_after=timedelta(days=3))],
        name="part-late",
    )
    materialize(spark, settings, view, DAY, now=NOW)
    rows = read_offline(spark, settings, view).where(f"snapshot_date = '{DAY}'").toPandas()
    user1 = rows[rows.user_id == 1].iloc[0]
    assert len(rows) == 2
    assert user1["count_1d"] == 2
    assert user1["sum_7d"] == pytest.approx(110.0)


def test_rerunning_a_range_after_late_events_replaces_exactly_the_affected_snapshots(
    spark, settings: Settings
) -> None:
    view = user_view()
    days = [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]
    write_events(
        settings.data_root,
        [event(f"t{i}", 1, 10.0, utc(2026, 1, 8 + i, 12)) for i in range(3)],
    )
    first = materialize_range(spark, settings, view, days, run_id="first", now=NOW)
    assert [r.rows for r in first] == [1, 1, 1]
    assert len({r.delta_version for r in first}) == 1  # one commit for the range

    # Known only later: an event on 9 January, 18:00, for user 1, and a new user 2.
    write_events(
        settings.data_root,
        [
            event("late1", 1, 100.0, utc(2026, 1, 9, 18), ingested_after=timedelta(days=3)),
            event("late2", 2, 5.0, utc(2026, 1, 9, 19), ingested_after=timedelta(days=3)),
        ],
        name="part-late",
    )
    second = materialize_range(spark, settings, view, days, run_id="second", now=NOW)
    assert second[0].delta_version == first[0].delta_version + 1
    table = read_offline(spark, settings, view).toPandas()
    by_day = {(row["snapshot_date"], int(row["user_id"])): row for _, row in table.iterrows()}
    assert len(table) == 1 + 2 + 2
    assert by_day[(days[0], 1)]["sum_7d"] == pytest.approx(10.0)  # before the late events
    assert by_day[(days[1], 1)]["sum_7d"] == pytest.approx(120.0)
    assert by_day[(days[1], 1)]["count_1d"] == 2
    assert by_day[(days[2], 1)]["sum_7d"] == pytest.approx(130.0)
    assert by_day[(days[2], 1)]["count_1d"] == 1
    assert by_day[(days[2], 2)]["count_7d"] == 1
    assert set(table["run_id"]) == {"second"}


def test_a_date_that_is_not_over_is_refused(spark, settings: Settings) -> None:
    view = user_view()
    write_events(settings.data_root, [event("t1", 1, 1.0, C - timedelta(hours=1))])
    with pytest.raises(TimeSemanticsError, match="in the future"):
        materialize(spark, settings, view, DAY, now=C - timedelta(seconds=1))
    assert not Path(view_table(settings, view.name)).exists()


def test_naive_timestamps_are_rejected_unless_declared_utc(spark, settings: Settings) -> None:
    folder = settings.data_root / "raw" / "tx"
    folder.mkdir(parents=True)
    frame = pd.DataFrame([event("t1", 1, 3.0, C - timedelta(hours=1))])
    for column in ("event_ts", "ingested_ts"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize(None).astype("datetime64[us]")
    frame.to_parquet(folder / "naive.parquet", index=False)

    strict = user_view()
    with pytest.raises(
        SourceDataError, match=r"'event_ts'.*without a time zone.*naive_timestamps='utc'"
    ):
        materialize(spark, settings, strict, DAY, now=NOW)
    assert not Path(view_table(settings, strict.name)).exists()

    lenient = user_view(source=tx_source(naive_timestamps="utc"))
    [result] = materialize(spark, settings, lenient, DAY, now=NOW)
    assert result.rows == 1
    assert snapshot_rows(spark, settings, lenient)[1]["count_1d"] == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["amount"]), r"column 'amount' is missing"),
        (
            lambda f: f.assign(amount=f["amount"].astype(str)),
            r"'amount' is string .* declares double",
        ),
        (
            lambda f: f.assign(user_id=pd.array([None, 2], dtype="Int64")),
            r"1 rows with a null user_id",
        ),
        (lambda f: f.assign(tx_id=[None, "x"]), r"1 rows with a null tx_id"),
    ],
    ids=["missing-column", "wrong-type", "null-key", "null-dedup-key"],
)
def test_bad_source_data_fails_with_one_line_and_writes_nothing(
    spark, settings: Settings, mutate, message: str
) -> None:
    view = user_view()
    frame = pd.DataFrame(
        [event("t1", 1, 1.0, C - timedelta(hours=1)), event("t2", 2, 2.0, C - timedelta(hours=2))]
    )
    for column in ("event_ts", "ingested_ts"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    folder = settings.data_root / "raw" / "tx"
    folder.mkdir(parents=True)
    mutate(frame).to_parquet(folder / "bad.parquet", index=False)
    with pytest.raises(SourceDataError, match=message) as caught:
        materialize(spark, settings, view, DAY, now=NOW)
    assert "\n" not in str(caught.value)
    assert not Path(view_table(settings, view.name)).exists()


def test_missing_source_folder_is_a_clear_error(spark, settings: Settings) -> None:
    with pytest.raises(SourceDataError, match=r"no data at .*raw/tx"):
        materialize(spark, settings, user_view(), DAY, now=NOW)


def test_hourly_view_commits_one_snapshot_per_hour(spark, settings: Settings) -> None:
    from feature_jobs.definitions import Entity, Feature, FeatureView
    from tests.feature_jobs.tiny_domain import NO_BATCH_CHECKS

    view = FeatureView(
        name="user_hourly",
        entity=Entity(name="user", join_keys={"user_id": "long"}),
        source=tx_source(),
        owner="tests",
        cadence="hourly",
        max_age="2h",
        checks=NO_BATCH_CHECKS,
        features=[
            Feature(name="count_1h", function="count", window="1h"),
            Feature(name="count_6h", function="count", window="6h"),
        ],
    )
    day_start = C - timedelta(days=1)
    moments = [day_start + timedelta(hours=h) for h in range(-3, 24, 3)]
    write_events(settings.data_root, [event(f"e{i}", 1, 1.0, m) for i, m in enumerate(moments)])
    results = materialize(spark, settings, view, DAY, now=NOW)
    expected_times = [day_start + timedelta(hours=h + 1) for h in range(24)]
    assert [r.feature_ts for r in results] == expected_times
    table = read_offline(spark, settings, view).toPandas()
    assert len(table) == 24
    for _, row in table.iterrows():
        c = pd.Timestamp(row["feature_ts"]).tz_localize("UTC").to_pydatetime()
        assert row["snapshot_date"] == DAY
        assert row["count_1h"] == sum(c - timedelta(hours=1) <= m < c for m in moments)
        assert row["count_6h"] == sum(c - timedelta(hours=6) <= m < c for m in moments)


def test_expression_on_an_unknown_column_fails_before_any_write(spark, settings: Settings) -> None:
    from feature_jobs.definitions import Feature
    from feature_jobs.errors import DefinitionError

    view = user_view(
        features=[Feature(name="x", function="count", window="1d", filter="merchant_id > 3")]
    )
    write_events(settings.data_root, [event("t1", 1, 1.0, C - timedelta(hours=1))])
    with pytest.raises(DefinitionError, match=r"feature view user_stats: .*merchant_id"):
        materialize(spark, settings, view, DAY, now=NOW)
    assert not Path(view_table(settings, view.name)).exists()

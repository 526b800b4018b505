"""Work beside a main Spark job: both results, and a failing side cancels the main job."""

from __future__ import annotations

import time

import pytest

from feature_jobs.errors import TrainingSetError
from feature_jobs.spark.side_by_side import run_side_by_side

# Summing this many ids keeps two cores busy for minutes: only a cancel ends it sooner.
ENDLESS = 10**12


def test_both_results_come_back(spark) -> None:  # type: ignore[no-untyped-def]
    main, side = run_side_by_side(
        spark,
        lambda: spark.range(1000).selectExpr("sum(id) AS s").first()["s"],
        lambda: spark.range(10).count(),
    )
    assert (main, side) == (499500, 10)
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None


def test_a_failing_side_cancels_the_main_job_and_its_error_wins(spark) -> None:  # type: ignore[no-untyped-def]
    def side() -> None:
        time.sleep(2)
        raise TrainingSetError("spine column 'ts' has 3 null value(s)")

    started = time.monotonic()
    with pytest.raises(TrainingSetError, match="has 3 null"):
        run_side_by_side(spark, lambda: spark.range(ENDLESS).selectExpr("sum(id)").first(), side)
    assert time.monotonic() - started < 60, "the main job was not cancelled"
    assert spark.range(5).count() == 5  # the session is still usable


def test_a_failing_main_job_cancels_the_side_and_its_error_wins(spark) -> None:  # type: ignore[no-untyped-def]
    def main() -> None:
        time.sleep(2)
        raise ValueError("the join failed")

    started = time.monotonic()
    with pytest.raises(ValueError, match="the join failed"):
        run_side_by_side(spark, main, lambda: spark.range(ENDLESS).selectExpr("sum(id)").first())
    assert time.monotonic() - started < 60, "the side job was not cancelled"

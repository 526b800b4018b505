"""Run a second, independent piece of Spark work beside the main one.

A short job on a small machine spends much of its time in the driver (planning, a cold
JVM compiling code) with executor cores idle. Checks that read the same inputs as the
main job - the spine checks and the leakage count of a training set - fill those gaps
when they run at the same time instead of before or after it.

Each side runs its Spark jobs in its own job group (PySpark pins every Python thread to
a JVM thread, so the group is per thread). When one side fails, the other side's jobs
are cancelled; the side checks' error wins, because it names the input's problem while
the main job's error would only be its consequence.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from feature_jobs.errors import SkewlessError

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

Main = TypeVar("Main")
Side = TypeVar("Side")
_GROUP_PROPERTIES = ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")


def run_side_by_side(
    spark: SparkSession, main: Callable[[], Main], side: Callable[[], Side]
) -> tuple[Main, Side]:
    """Run ``main`` in this thread and ``side`` in a worker thread; return both results.

    Raises:
        The :class:`SkewlessError` of ``side`` if it raised one (``main``'s jobs are
        cancelled then), else the error of ``main`` (``side``'s jobs are cancelled then),
        else any other error of ``side``.
    """
    sc = spark.sparkContext
    main_group, side_group = (f"skewless-{name}-{uuid.uuid4().hex[:12]}" for name in "ms")

    def run_side() -> Side:
        sc.setJobGroup(side_group, "skewless checks beside the main job")
        try:
            return side()
        except BaseException:
            sc.cancelJobGroup(main_group)
            raise
        finally:
            _clear_group(sc)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="skewless-side") as pool:
        future = pool.submit(run_side)
        sc.setJobGroup(main_group, "skewless main job")
        main_error: BaseException | None = None
        try:
            result = main()
        except BaseException as exc:
            main_error = exc
            if not future.done():
                sc.cancelJobGroup(side_group)
        finally:
            _clear_group(sc)
        side_error = future.exception()  # waits for the side to finish
    # A side failure that names a problem (a SkewlessError) wins over whatever it caused
    # in the main job; a side merely cancelled because the main job failed does not.
    if side_error is not None and (main_error is None or isinstance(side_error, SkewlessError)):
        raise side_error
    if main_error is not None:
        raise main_error
    return result, future.result()


def _clear_group(sc: SparkContext) -> None:
    for key in _GROUP_PROPERTIES:
        sc.setLocalProperty(key, None)  # type: ignore[arg-type]

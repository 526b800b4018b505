"""Pandera models for every raw source and every feature view's output.

Each contract has two parts. The **structural** part is derived from the definitions in
``features/`` (column layout and types, non-null keys, unique ``(keys, feature_ts)``,
counts >= 0, aggregates within the source's declared range...), so it cannot drift from
them; see ``feature_jobs/validation/structural.py``. The **domain** part is written by hand
here: :mod:`schemas.sources` (raw sources) and :mod:`schemas.views` (snapshots).

:func:`view_schema` and :func:`source_schema` return the merged contract as a plain
``pandera.pyspark.DataFrameSchema``, usable on its own (``schema.validate(df)`` then read
``df.pandera.errors``); the validation gate evaluates the same rules in one Spark pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pandera.api.pyspark.container import DataFrameSchema

    from feature_jobs.definitions import FeatureView, Source


def view_schema(
    view: FeatureView, *, feature_ts: datetime, run_id: str | None = None,
    now: datetime | None = None,
) -> DataFrameSchema:  # fmt: skip
    """The Pandera schema of the snapshot of ``view`` at ``feature_ts``."""
    from feature_jobs.timeutil import logical_date, utc_now
    from feature_jobs.validation.contract import view_contract

    contract = view_contract(
        view, feature_ts=feature_ts, snapshot_date=logical_date(feature_ts), run_id=run_id,
        now=now or utc_now(),
    )  # fmt: skip
    return contract.pandera_schema()


def source_schema(source: Source) -> DataFrameSchema:
    """The Pandera schema of the rows of a raw source."""
    from feature_jobs.validation.contract import source_contract

    return source_contract(source).pandera_schema()

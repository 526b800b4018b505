"""A Delta commit that lost its ``remove`` actions leaves a replaced snapshot's rows visible
beside the new ones. The sync names that (which view, date, table and version, how many
keys repeat, and the fix) instead of blaming Redis, and publishes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feature_jobs.errors import OfflineStoreError
from feature_jobs.materialize import materialize_range
from feature_jobs.offline import view_table
from feature_jobs.online.connection import Client
from feature_jobs.online.publish import read_live
from feature_jobs.online.sync import sync
from feature_jobs.settings import Settings
from tests.reliability.history import D2
from tests.reliability.invariants import (
    USER_STATS,
    assert_offline_equals_recomputation,
    assert_redis_serves,
)

#: The template's commits of user_stats are D1 (version 0) and D2 (version 1).
REPLACING = "00000000000000000002.json"


def _drop_removes(table: Path) -> int:
    """Cut the ``remove`` lines out of the commit that replaced D2 (and its checksums, which
    a cut at a line boundary by anything but Delta would not update); how many went."""
    entry = table / "_delta_log" / REPLACING
    lines = entry.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith('{"remove"')]
    entry.write_text("".join(kept))
    (table / "_delta_log" / f".{REPLACING}.crc").unlink()
    (table / "_delta_log" / "00000000000000000002.crc").unlink(missing_ok=True)
    return len(lines) - len(kept)


def test_repeated_keys_are_named_and_nothing_is_published(
    spark: SparkSession, warehouse: Settings, client: Client
) -> None:
    table = Path(view_table(warehouse, USER_STATS.name))
    [again] = materialize_range(spark, warehouse, USER_STATS, [D2], run_id="again")
    assert again.delta_version == 2
    assert _drop_removes(table) > 0
    stored = spark.read.format("delta").load(str(table)).where(F.col("snapshot_date") == D2)
    keys = stored.select("user_id").distinct().count()
    assert stored.count() == 2 * keys  # the replaced rows are visible again

    with pytest.raises(OfflineStoreError) as caught:
        sync(spark, warehouse, USER_STATS, D2)

    assert str(caught.value) == (
        f"the {D2} snapshot of user_stats in {table} (Delta version 2) holds {keys} key(s) "
        f"more than once ({2 * keys} rows for {keys} keys): a commit of the table lost the "
        "removal of the rows it replaced; nothing was published - re-run `python -m "
        f"feature_jobs materialize --view user_stats --date {D2}` to replace them, then sync"
    )
    assert read_live(client, warehouse.project, USER_STATS.name) is None

    # The advice works: a new replacing commit removes every visible file of the date.
    materialize_range(spark, warehouse, USER_STATS, [D2], run_id="repair")
    expected = assert_offline_equals_recomputation(spark, warehouse, USER_STATS, D2)
    assert sync(spark, warehouse, USER_STATS, D2).published
    assert_redis_serves(warehouse, client, USER_STATS, D2, expected)

"""A folder spine is checked file by file: a symlink inside it, or a Delta log entry
naming an absolute path, that leads outside the data root refuses the whole spine before
anything is read - on the CLI and in the Airflow form.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feature_jobs.airflow_support.training_conf import check_training_conf
from feature_jobs.cli import main
from feature_jobs.errors import UnsafeInputError
from feature_jobs.settings import Settings
from tests.reliability.history import write_spine
from tests.reliability.invariants import REGISTRY

TS = [datetime(2024, 3, 2, 6, tzinfo=UTC)]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A valid spine file outside the data root (user 999, whose rows must never leak)."""
    return write_spine(tmp_path / "outside" / "secret.parquet", [999], TS)


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, (argv, err[-1000:])
    assert len(err.splitlines()) == 1, err[-2000:]
    return err


def test_a_link_in_a_spine_folder_is_refused(
    spark: SparkSession,
    warehouse: Settings,
    outside: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = warehouse.data_root
    for name, value in {
        "SKEWLESS_DATA_ROOT": str(root),
        "SKEWLESS_PROJECT": warehouse.project,
        "SKEWLESS_FEATURES": "tests.reliability.defs",
        "REDIS_URL": warehouse.redis_url or "",
    }.items():
        monkeypatch.setenv(name, value)
    folder = root / "spines" / "d"
    write_spine(folder / "part-0.parquet", [1, 2], TS)
    (folder / "part-1.parquet").symlink_to(outside)
    nested = root / "spines" / "n"
    write_spine(nested / "part-0.parquet", [1, 2], TS)
    (nested / "more").symlink_to(outside.parent, target_is_directory=True)
    # A Delta spine whose second commit adds a file by absolute path, outside the root.
    table = root / "spines" / "dt"
    spark.read.parquet(str(folder / "part-0.parquet")).write.format("delta").save(str(table))
    add = {"path": outside.as_uri(), "partitionValues": {}, "size": outside.stat().st_size,
           "modificationTime": 1_709_251_200_000, "dataChange": True}  # fmt: skip
    (table / "_delta_log" / "00000000000000000001.json").write_text(json.dumps({"add": add}))

    out = root / "training_sets" / "t"
    cases = {
        folder: f"{folder / 'part-1.parquet'} points to {outside}",
        nested: f"{nested / 'more'} points to {outside.parent}",
        table: f"its Delta log adds {outside.as_uri()}",
    }
    for spine, named in cases.items():
        err = _refused(["training-set", "--spine", str(spine), "--features",
                        "user_stats:count_7d", "--output", str(out)], capsys)  # fmt: skip
        assert err.startswith(f"error: --spine {spine}: "), err
        assert named in err and "outside the data root" in err, err
        assert not out.exists()

    # A manifest whose spine folder gained a link since is refused the same way.
    (folder / "part-1.parquet").unlink()
    assert main(["training-set", "--spine", str(folder), "--features", "user_stats:count_7d",
                 "--output", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    (folder / "part-1.parquet").symlink_to(outside)
    err = _refused(["training-set", "--from-manifest", f"{out}.manifest.json", "--output",
                    str(root / "training_sets" / "again")], capsys)  # fmt: skip
    assert err.startswith(f"error: spine of the manifest {folder}: {folder / 'part-1.parquet'}")


def test_the_airflow_form_checks_every_file_of_the_spine(settings: Settings, outside: Path) -> None:
    folder = settings.data_root / "spines" / "d"
    write_spine(folder / "part-0.parquet", [1, 2], TS)
    (folder / "part-1.parquet").symlink_to(outside)
    conf = {"feature_service": "fraud", "spine": "spines/d", "mode": "event-time",
            "output_name": "t"}  # fmt: skip
    link = r"part-1\.parquet points to .*, outside the data root"
    with pytest.raises(UnsafeInputError, match=link):
        check_training_conf(conf, settings, REGISTRY)

"""``training-set --output`` cannot replace anything skewless owns or reads, whatever the
flags: the offline tables, raw data, the embedded Redis folder, another Delta table, the
spine or the folder holding it. Only a previous training-set output (its manifest beside
it) is replaced by ``--overwrite``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feature_jobs.airflow_support.training_conf import check_training_conf
from feature_jobs.cli import main
from feature_jobs.errors import UnsafeInputError
from feature_jobs.offline import view_table, views_folder
from feature_jobs.settings import Settings
from tests.reliability.history import write_spine
from tests.reliability.invariants import REGISTRY

FEATURES = ["--features", "user_stats:count_7d"]


@pytest.fixture
def cli(warehouse: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI pointed at this test's copy of the warehouse, with a spine in spines/."""
    write_spine(
        warehouse.data_root / "spines" / "s.parquet", [1, 2], [datetime(2024, 3, 2, 6, tzinfo=UTC)]
    )
    for name, value in {
        "SKEWLESS_DATA_ROOT": str(warehouse.data_root),
        "SKEWLESS_PROJECT": warehouse.project,
        "SKEWLESS_FEATURES": "tests.reliability.defs",
        "REDIS_URL": warehouse.redis_url or "",
    }.items():
        monkeypatch.setenv(name, value)
    return warehouse


def _tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` with its content."""
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, (argv, err[-500:])
    assert "Traceback" not in err and len(err.splitlines()) == 1, err[-2000:]
    return err


def test_overwrite_never_deletes_what_skewless_owns_or_reads(
    spark: SparkSession, cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    root = cli.data_root
    spine = root / "spines" / "s.parquet"
    table = Path(view_table(cli, "user_stats"))
    (root / "redis").mkdir()
    (root / "redis" / "server.json").write_text("{}")
    foreign = root / "elsewhere" / "table"  # a Delta table that is not a training set
    (foreign / "_delta_log").mkdir(parents=True)
    (foreign / "_delta_log" / "00000000000000000000.json").write_text("{}\n")
    (root / "training_sets").mkdir()
    (root / "training_sets" / "into_table").symlink_to(table)
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("mine")
    guarded = {p: _tree(p) for p in (table, root / "raw", root / "redis", foreign, root / "notes")}
    spine_bytes = spine.read_bytes()
    versions = sorted(p.name for p in (table / "_delta_log").glob("*.json"))
    assert len(versions) >= 2

    cases = {
        str(table): "is inside the Delta warehouse",
        views_folder(cli): "is inside the Delta warehouse",
        str(root / "raw"): "is the raw data folder",
        str(root / "redis"): "is the embedded Redis folder",
        str(foreign): "is or is inside the Delta table",
        str(root / "training_sets" / "into_table"): "is inside the Delta warehouse",
        str(root / "spines"): "holds the input",
        str(spine): "is the input",
        str(root / "notes"): "is not a training-set output",
    }
    for output, reason in cases.items():
        err = _refused(["training-set", "--spine", str(spine), *FEATURES, "--output", output,
                        "--overwrite"], capsys)  # fmt: skip
        assert reason in err, (output, err)
        assert err.startswith("error: --output "), err

    for path, files in guarded.items():
        assert _tree(path) == files, f"{path} was changed"
    assert spine.read_bytes() == spine_bytes
    assert sorted(p.name for p in (table / "_delta_log").glob("*.json")) == versions
    assert spark.read.format("delta").load(str(table)).count() > 0

    # A previous training-set output is ours to replace, even as a Delta table.
    out = root / "training_sets" / "ts"
    for _ in range(2):
        argv = ["training-set", "--spine", str(spine), *FEATURES, "--output", str(out),
                "--output-format", "delta", "--overwrite"]  # fmt: skip
        assert main(argv) == 0, capsys.readouterr().err[-2000:]
        capsys.readouterr()
    assert spark.read.format("delta").load(str(out)).count() == 2
    # ...but not the folder holding it and its manifest, in a rebuild from that manifest.
    err = _refused(["training-set", "--from-manifest", f"{out}.manifest.json",
                    "--output", str(root / "training_sets"), "--overwrite"], capsys)  # fmt: skip
    assert "holds the input" in err and (out / "_delta_log").is_dir()


def test_airflow_form_output_follows_the_same_rule(cli: Settings) -> None:
    root = cli.data_root
    # training_sets/ is a link into the warehouse: the form's output would land there.
    (root / "training_sets").symlink_to(views_folder(cli))
    conf = {"feature_service": "fraud", "spine": "spines/s.parquet", "mode": "event-time",
            "output_name": "fresh"}  # fmt: skip
    with pytest.raises(UnsafeInputError, match="is inside the Delta warehouse") as info:
        check_training_conf(conf, cli, REGISTRY)
    assert str(info.value).startswith("output_name 'fresh': ")
    assert not (Path(views_folder(cli)) / "fresh").exists()

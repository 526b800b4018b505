"""Which materialize runs get the short-job JVM profile: decided by the sources' size."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from feature_jobs.cli.materialize_cmd import SHORT_JOB_SOURCE_BYTES, is_short_job
from feature_jobs.definitions import load_registry
from feature_jobs.settings import Settings
from feature_jobs.sources import local_source_bytes


def write_bytes(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_the_sources_files_are_summed_once_per_source(settings: Settings) -> None:
    views = list(load_registry(settings.features_module).views.values())
    sources = {v.source.name: v.source for v in views}
    for i, source in enumerate(sources.values()):
        assert source.path is not None
        write_bytes(Path(settings.resolve_source_path(source.path)) / f"part-{i}.parquet", 1000)
        write_bytes(Path(settings.resolve_source_path(source.path)) / "nested" / "b", 24)
    # Three views share the transactions source: it counts once.
    assert local_source_bytes(settings, [v.source for v in views]) == 1024 * len(sources)
    assert is_short_job(settings, list(views))


def test_a_large_or_unknown_source_is_not_a_short_job(settings: Settings) -> None:
    view = load_registry(settings.features_module).view("user_transaction_stats")
    assert view.source.path is not None
    folder = Path(settings.resolve_source_path(view.source.path))
    write_bytes(folder / "big.parquet", SHORT_JOB_SOURCE_BYTES + 1)
    assert not is_short_job(settings, [view])
    (folder / "big.parquet").unlink()
    assert is_short_job(settings, [view])
    in_a_table = dataclasses.replace(view, source=dataclasses.replace(
        view.source, path=None, table="catalog.transactions"))  # fmt: skip
    assert local_source_bytes(settings, [in_a_table.source]) is None
    assert not is_short_job(settings, [in_a_table])

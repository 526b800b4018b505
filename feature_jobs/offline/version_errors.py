"""The errors of reading a pinned Delta version, worded once for both training engines."""

from __future__ import annotations

from feature_jobs.errors import TrainingSetError


def missing_table(what: str, path: str) -> TrainingSetError:
    """There is no Delta table to pin."""
    return TrainingSetError(
        f"{what} has no Delta table at {path}; materialize it first "
        "(python -m feature_jobs materialize)"
    )


def unreadable_version(what: str, path: str, version: int, cause: str) -> TrainingSetError:
    """The version's log entry is gone (or unreadable): probably cleaned up or vacuumed."""
    return TrainingSetError(
        f"{what}: Delta version {version} of {path} cannot be read ({cause}); it was "
        "probably vacuumed - rebuild from a newer manifest, nothing was written"
    )


def vacuumed_version(what: str, path: str, version: int, missing: list[str]) -> TrainingSetError:
    """The version's log entry remains but some of its data files were vacuumed."""
    return TrainingSetError(
        f"{what}: Delta version {version} of {path} was vacuumed ({len(missing)} data "
        f"file(s) gone, e.g. {missing[0]}); it cannot be rebuilt identically - rebuild "
        "from a newer manifest, nothing was written"
    )

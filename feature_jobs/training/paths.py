"""Where a training set may read and write, and how its output appears all at once.

Spines and outputs must live under the data root (``SKEWLESS_DATA_ROOT``): a training
job run by a scheduler must not be steerable into reading or overwriting arbitrary
files. Outputs are written to a hidden sibling folder and renamed into place, so a
failure at any point leaves nothing (or the previous output) behind.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from feature_jobs.errors import TrainingSetError, UnsafeInputError
from feature_jobs.settings import Settings

MANIFEST_SUFFIX = ".manifest.json"
#: Longer paths are refused up front (the OS would fail later with an unclear error).
MAX_PATH_CHARS = 1024


def size_on_disk(path: Path) -> int:
    """Total bytes of the files at or under ``path`` (0 when nothing is there)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:  # removed while we looked: it does not count
                continue
    return total


def checked_path(path: str | Path, settings: Settings, flag: str) -> Path:
    """Absolute path of ``path`` (relative to the working directory), inside the data root.

    Symlinks are resolved first, so a link inside the root pointing outside is refused.

    Raises:
        UnsafeInputError: a URI, or a path outside (or equal to) the data root.
    """
    text = str(path)
    root = settings.data_root.resolve()
    if "://" in text or not text.strip() or "\x00" in text or len(text) > MAX_PATH_CHARS:
        raise UnsafeInputError(
            f"{flag} {text!r} is not a local path; training sets read and write only "
            f"under the data root {root}"
        )
    resolved = Path(text).resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise UnsafeInputError(
            f"{flag} {text} is outside the data root {root}; move it under "
            "SKEWLESS_DATA_ROOT or point SKEWLESS_DATA_ROOT at its folder"
        )
    return resolved


def spine_format(path: Path, declared: str) -> str:
    """The spine's format: as declared, or guessed (``_delta_log`` → delta, .csv → csv)."""
    if not path.exists():
        raise TrainingSetError(f"--spine {path} does not exist; give an existing file or folder")
    if declared != "auto":
        return declared
    if (path / "_delta_log").is_dir():
        return "delta"
    if path.suffix.lower() == ".csv" or (
        path.is_dir() and any(p.suffix.lower() == ".csv" for p in path.iterdir())
    ):
        return "csv"
    return "parquet"


def manifest_path(output: Path) -> Path:
    """``<output>.manifest.json``, next to the output."""
    return output.with_name(output.name + MANIFEST_SUFFIX)


def staging_path(output: Path) -> Path:
    """A hidden, unique sibling of ``output`` to write into before the final rename."""
    return output.with_name(f".{output.name}.tmp-{uuid.uuid4().hex[:12]}")


def check_output_free(output: Path, overwrite: bool) -> None:
    """Refuse to replace an existing output unless ``overwrite`` was asked for."""
    if output.exists() and not overwrite:
        raise TrainingSetError(
            f"--output {output} already exists; choose another path or pass --overwrite"
        )
    output.parent.mkdir(parents=True, exist_ok=True)


def publish(staged: Path, output: Path, manifest_text: str) -> None:
    """Move the staged output and its manifest into place (rename, not copy).

    The previous output, if any, is renamed away first and deleted only after the new
    one is in place.
    """
    manifest = manifest_path(output)
    staged_manifest = staged.with_name(staged.name + MANIFEST_SUFFIX)
    staged_manifest.write_text(manifest_text, encoding="utf-8")
    retired = staging_path(output) if output.exists() else None
    if retired is not None:
        os.replace(output, retired)
    os.replace(staged, output)
    os.replace(staged_manifest, manifest)
    if retired is not None:
        remove(retired)


def remove(path: Path) -> None:
    """Delete a file or folder if it exists (used to discard a staged output)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()
    staged_manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    if staged_manifest.exists():
        staged_manifest.unlink()

"""Where a training set may read and write, and how its output appears all at once.

Inputs (spine, manifest) must live under the data root (``SKEWLESS_DATA_ROOT``): a
training job run by a scheduler must not be steerable into reading arbitrary files. Every
path is resolved first (symlinks followed) and, for a folder input, so is every file and
folder inside it and every file its Delta log names: one link or absolute log entry
pointing outside the root refuses the whole input.

Outputs follow one rule, whatever the flags (``--overwrite`` included), checked on the
resolved path before any work:

* the output is under the data root and is not the data root itself;
* it is not, does not contain and is not inside anything skewless owns: the Delta
  warehouse (``DELTA_ROOT``: ``offline/``, ``_skewless/``), ``raw/`` and every source
  path of the definitions, the embedded Redis folder (``redis/``), and any Delta table
  (a folder with ``_delta_log``) that is not a previous training-set output;
* it is not an input nor an ancestor of one, nor inside a folder input;
* if something exists there already, it is a previous training-set output (its
  ``<output>.manifest.json`` lies beside it) or an empty folder; only then does
  ``--overwrite`` replace it. Anything else is the user's to remove.

The conventional place is ``<data root>/training_sets/<name>`` (where the Airflow form
writes). Outputs are written to a hidden sibling folder and renamed into place, so a
failure at any point leaves nothing (or the previous output) behind.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from feature_jobs.definitions import Registry
from feature_jobs.errors import TrainingSetError, UnsafeInputError
from feature_jobs.online.embedded import server_dir
from feature_jobs.settings import Settings

MANIFEST_SUFFIX = ".manifest.json"
#: The folder under the data root meant for training sets (the Airflow form writes there).
TRAINING_SETS_FOLDER = "training_sets"
#: Folder of raw source data under the data root.
RAW_FOLDER = "raw"
_GLOB_CHARS = frozenset("*?[{")
#: Longer paths are refused up front (the OS would fail later with an unclear error).
MAX_PATH_CHARS = 1024


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


def checked_input(path: str | Path, settings: Settings, flag: str) -> Path:
    """:func:`checked_path`, and every file and folder inside it (links resolved) too.

    A folder input is read whole, so one symlink in it pointing outside the data root
    (or a Delta log entry naming an absolute path outside it) would leak that file into
    the output.

    Raises:
        UnsafeInputError: the path, or anything inside it, resolves outside the data root.
    """
    top = checked_path(path, settings, flag)
    if not top.is_dir():
        return top
    root = settings.data_root.resolve()
    seen = {top}
    for folder, dirs, files in os.walk(top, followlinks=True):
        for name in [*dirs, *files]:
            entry = Path(folder) / name
            _inside(f"{entry} points to {entry.resolve()}", entry.resolve(), root, flag, top)
        # Each real folder once: a link back to an ancestor must not loop forever.
        dirs[:] = [d for d in dirs if (Path(folder) / d).resolve() not in seen]
        seen.update((Path(folder) / d).resolve() for d in dirs)
    for logged, target in _delta_log_files(top):
        _inside(f"its Delta log adds {logged}", target, root, flag, top)
    return top


def _inside(found: str, target: Path | None, root: Path, flag: str, top: Path) -> None:
    if target is None or not target.is_relative_to(root):
        raise UnsafeInputError(
            f"{flag} {top}: {found}, outside the data root {root}; copy that file into the "
            "data root instead of linking it"
        )


def _delta_log_files(table: Path) -> Iterator[tuple[str, Path | None]]:
    """(as logged, resolved local path or None for a remote URI) of each file a Delta log adds."""
    log = table / "_delta_log"
    added: list[object] = []
    for commit in sorted(log.glob("*.json")):
        for line in commit.read_text(encoding="utf-8").splitlines():
            try:
                added.append(json.loads(line).get("add"))
            except (ValueError, AttributeError):
                continue  # a corrupt log: Spark refuses it with its own error
    if any(log.glob("*.checkpoint*.parquet")):
        import pyarrow.parquet as pq

        for checkpoint in sorted(log.glob("*.checkpoint*.parquet")):
            added += pq.read_table(checkpoint, columns=["add"]).column("add").to_pylist()
    for add in added:
        logged = add.get("path") if isinstance(add, dict) else None
        if not isinstance(logged, str):
            continue
        parsed = urlparse(logged)
        if parsed.scheme not in ("", "file"):
            yield logged, None  # s3a://... cannot be under a local data root
        else:
            # Relative paths are relative to the table (URL-encoded); absolute ones as is.
            yield logged, (table / unquote(parsed.path)).resolve()


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


def check_output(
    output: Path,
    overwrite: bool,
    settings: Settings,
    inputs: Iterable[Path],
    registry: Registry | None = None,
    flag: str = "--output",
) -> None:
    """Refuse an output that breaks the rule of this module's docstring.

    Args:
        inputs: the files and folders the job reads (spine, manifest), to keep them safe.
        registry: the definitions, whose source paths are off limits too.
        flag: how the user gave the output, for the messages.

    Raises:
        UnsafeInputError: the output is, holds or lies inside something skewless owns or
            reads.
        TrainingSetError: the output exists and ``overwrite`` was not asked for.
    """
    out = checked_path(output, settings, flag)
    where = f"write training sets under {settings.data_root.resolve() / TRAINING_SETS_FOLDER}"
    for what, owned in _owned(settings, registry, inputs):
        if out == owned:
            raise UnsafeInputError(f"{flag} {out} is {what}; {where}")
        if owned.is_relative_to(out):
            raise UnsafeInputError(f"{flag} {out} holds {what} {owned}; {where}")
        if out.is_relative_to(owned):
            raise UnsafeInputError(f"{flag} {out} is inside {what} {owned}; {where}")
    for folder in (out, *out.parents):
        if folder == settings.data_root.resolve():
            break
        # A previous output written as Delta is a table too: that one may be replaced.
        if (folder / "_delta_log").is_dir() and not (
            folder == out and manifest_path(out).is_file()
        ):
            raise UnsafeInputError(
                f"{flag} {out} is or is inside the Delta table {folder}, which is not a "
                f"training-set output; {where}"
            )
    if not out.exists():
        return
    if not overwrite:
        raise TrainingSetError(
            f"{flag} {out} already exists; choose another path or pass --overwrite"
        )
    if manifest_path(out).is_file():
        _check_replaceable(out, flag, where)
    elif not (out.is_dir() and not any(out.iterdir())):
        raise UnsafeInputError(
            f"{flag} {out} exists and is not a training-set output (no "
            f"{manifest_path(out).name} beside it), so --overwrite will not delete it; "
            "remove it yourself or choose another path"
        )


def _owned(
    settings: Settings, registry: Registry | None, inputs: Iterable[Path]
) -> Iterator[tuple[str, Path]]:
    """(what, resolved path) of everything an output must neither be, hold nor be inside."""
    if "://" not in settings.delta_root:
        yield "the Delta warehouse", Path(settings.delta_root).resolve()
    yield "the raw data folder", (settings.data_root / RAW_FOLDER).resolve()
    yield "the embedded Redis folder", server_dir(settings).resolve()
    for source in registry.sources.values() if registry is not None else ():
        if source.path is not None and "://" not in source.path:
            parts = Path(settings.resolve_source_path(source.path)).parts
            # A glob names files; what it matches lies under its last plain folder.
            plain = next((i for i, p in enumerate(parts) if _GLOB_CHARS & set(p)), len(parts))
            yield f"the data of source {source.name}", Path(*parts[:plain]).resolve()
    for given in inputs:
        yield "the input", given.resolve()


def _check_replaceable(output: Path, flag: str, where: str) -> None:
    """A previous output may be replaced unless a Delta table or Redis store was put inside."""
    for folder, dirs, files in os.walk(output):
        here = Path(folder)
        redis_store = {"server.json", "redis.conf"} <= set(files)
        if ("_delta_log" in dirs and here != output) or redis_store:
            raise UnsafeInputError(
                f"{flag} {output} holds {here}, a Delta table or Redis store that "
                f"--overwrite would delete; {where}"
            )
        dirs[:] = [d for d in dirs if d != "_delta_log"]


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

"""One line for a failed Spark or Delta call: the root cause at the bottom of the Java chain.

py4j reports every JVM failure as ``An error occurred while calling o123.save`` and Spark
wraps the real cause in a job abort, so a full disk, a corrupt commit file and a permission
problem all read the same, under hundreds of lines of Java stack. :func:`diagnose` walks
the Java cause chain (class names, Spark error conditions and their parameters, messages)
and says what happened and what to do; :func:`delta_errors` turns a failure of a block that
reads or writes one Delta table into an :class:`OfflineStoreError` carrying that line.

Nothing here imports PySpark: the chain is read from the exception objects themselves.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from feature_jobs.errors import OfflineStoreError, SkewlessError, first_line

Kind = Literal[
    "no_space",
    "concurrent",
    "missing_log",
    "corrupt_log",
    "unreadable_file",
    "permission",
    "not_a_folder",
    "cannot_create",
    "other",
]
#: A cause chain longer than this is cut (Java forbids cycles, but a chain can be long).
MAX_DEPTH = 32
MAX_DETAIL = 240

_NO_SPACE = re.compile(r"no space left on device|ENOSPC|disk quota exceeded|EDQUOT", re.I)
_DENIED = re.compile(r"permission denied|operation not permitted|access ?denied", re.I)
_NOT_A_FOLDER = re.compile(
    r"(?:Parent path is not a directory|Destination exists and is not a directory):?\s*(\S+)"
    r"|(\S+) \(Not a directory\)"
)
_MKDIRS = re.compile(r"(?:Mkdirs failed to create|Cannot create)\s+(\S+)")
_LOG_FILE = re.compile(r"(\S*/_delta_log/\d{20}\.(?:json|checkpoint\S*|crc))")
_CONCURRENT = {
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "ConcurrentWriteException",
    "MetadataChangedException",
    "ProtocolChangedException",
}


@dataclass(frozen=True)
class JavaError:
    """One exception of a Java cause chain."""

    name: str
    message: str
    condition: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        """The class name without its package."""
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Diagnosis:
    """What a failed JVM call ran into, as one line that ends with the fix."""

    kind: Kind
    line: str


def java_chain(exc: BaseException) -> list[JavaError]:
    """The Java exceptions behind ``exc``, outermost first; [] if it did not come from the JVM.

    Reads ``Py4JJavaError.java_exception`` and PySpark's converted exceptions (their Java
    origin), also behind one explicit ``raise ... from``.
    """
    throwable = _throwable(exc)
    chain: list[JavaError] = []
    # Each step is a py4j call; a JVM that died meanwhile ends the walk with what was read.
    with suppress(Exception):
        while throwable is not None and len(chain) < MAX_DEPTH:
            chain.append(_link(throwable))
            throwable = throwable.getCause()
    return chain


def diagnose(exc: BaseException, table: str | None = None) -> Diagnosis | None:
    """The root cause of a failed Spark or Delta call, or None for a Python-side error.

    Args:
        exc: what the call raised.
        table: the Delta table the call read or wrote, named in the line when known.
    """
    chain = java_chain(exc)
    return _diagnose(chain, _local(table) if table else None) if chain else None


@contextmanager
def delta_errors(what: str, table: str) -> Iterator[None]:
    """Raise a JVM failure inside the block as ``OfflineStoreError("<what>: <cause>")``.

    Skewless errors and Python-side errors pass through unchanged; the Java exception
    stays chained for ``--verbose``.
    """
    try:
        yield
    except SkewlessError:
        raise
    except Exception as exc:
        found = diagnose(exc, table)
        if found is not None:
            raise OfflineStoreError(f"{what}: {found.line}") from exc
        if type(exc).__module__.startswith("py4j"):  # no Java exception: the JVM went away
            raise OfflineStoreError(f"{what}: Spark's JVM failed ({first_line(exc)})") from exc
        raise


def _throwable(exc: BaseException) -> Any:
    for candidate in (exc, exc.__cause__):
        if candidate is None:
            continue
        for attribute in ("java_exception", "_origin"):
            found = getattr(candidate, attribute, None)
            if found is not None:
                return found
    return None


def _link(throwable: Any) -> JavaError:
    name = str(throwable.getClass().getName())
    message = str(throwable.getMessage() or "")
    condition: str | None = None
    parameters: dict[str, str] = {}
    # Only Spark's and Delta's own exceptions (SparkThrowable) carry a condition; py4j
    # answers the call on any other class with an error, which just means "none".
    with suppress(Exception):
        condition = str(throwable.getCondition() or "") or None
        parameters = {str(k): str(v) for k, v in dict(throwable.getMessageParameters()).items()}
    return JavaError(name, message, condition, parameters)


def _diagnose(chain: list[JavaError], table: str | None) -> Diagnosis:
    texts = [f"{e.name}: {e.message}" for e in chain]
    where = f" {table}" if table else " the table"
    if any(_NO_SPACE.search(t) for t in texts):
        on = f" ({table})" if table else ""  # reads spill too: not only writes fill a disk
        return Diagnosis(
            "no_space",
            f"no space left on device{on}; free disk space there (or in Spark's scratch "
            "folder, spark.local.dir) and re-run",
        )
    for e in chain:
        if e.short_name in _CONCURRENT or (e.condition or "").startswith("DELTA_CONCURRENT"):
            return Diagnosis(
                "concurrent",
                f"another job committed to{where} at the same time ({e.short_name}); re-run",
            )
    missing = _missing_log(chain, table)
    if missing is not None:
        return missing
    corrupt = _unreadable(chain)
    if corrupt is not None:
        return corrupt
    for e in chain:
        folder = _NOT_A_FOLDER.search(e.message)
        if folder is not None and folder.group(1):
            return _not_a_folder(_local(folder.group(1)))
        if folder is not None:  # names the file it could not create: find the culprit
            return _cannot_create(_local(folder.group(2)))
    for e in reversed(chain):
        if e.short_name in ("AccessDeniedException", "AccessControlException") or _DENIED.search(
            e.message
        ):
            return _denied(_denied_path(e) or table or "the table")
    for e in reversed(chain):
        made = _MKDIRS.search(e.message)
        if made is not None:
            return _cannot_create(_local(made.group(1)))
    root = next((e for e in reversed(chain) if e.message.strip()), chain[-1])
    detail = first_line(root.message, MAX_DETAIL)
    return Diagnosis("other", f"{root.short_name}: {detail}"[:MAX_DETAIL].rstrip(": "))


def _missing_log(chain: list[JavaError], table: str | None) -> Diagnosis | None:
    for e in chain:
        if e.condition == "DELTA_VERSIONS_NOT_CONTIGUOUS":
            present = sorted(
                int(v) for v in re.findall(r"\d+", e.parameters.get("versionList", ""))
            )
            if not present:
                break
            gaps = sorted(set(range(present[0], present[-1] + 1)) - set(present))
            files = ", ".join(_log_file(table, v) for v in gaps[:3]) + (
                f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
            )
            return Diagnosis(
                "missing_log",
                f"the Delta log of{' ' + table if table else ' the table'} is missing {files} "
                f"(versions {present[0]} to {present[-1]} are there around the gap); restore "
                "it from a backup of the table - Delta cannot read past a missing commit",
            )
        # A commit file deleted below the newest one (Delta: "truncated transaction log").
        if e.short_name.endswith("FileNotFoundException") or e.condition == (
            "DELTA_TRUNCATED_TRANSACTION_LOG"
        ):
            found = _LOG_FILE.search(e.parameters.get("path", "")) or _LOG_FILE.search(e.message)
            if found is not None:
                return Diagnosis(
                    "missing_log",
                    f"the Delta log entry {_local(found.group(1))} is missing; restore it from "
                    "a backup of the table",
                )
    return None


def _unreadable(chain: list[JavaError]) -> Diagnosis | None:
    """A commit (or data) file that exists but cannot be read: checksum, JSON, Parquet."""
    path = None
    for e in chain:
        candidate = e.parameters.get("path") or ""
        found = _LOG_FILE.search(candidate) or _LOG_FILE.search(e.message)
        if found is not None:
            path = found.group(1)
            break
        if e.condition and e.condition.startswith("FAILED_READ_FILE") and candidate:
            path = candidate
            break
    checksum = any(e.short_name == "ChecksumException" for e in chain)
    bad_json = any(
        "json" in e.name.lower() or "MALFORMED_RECORD" in (e.condition or "") for e in chain
    )
    read = any((e.condition or "").startswith("FAILED_READ_FILE") for e in chain)
    if path is None or not (checksum or bad_json or read):
        return None  # a log file named by another failure (a denied write, say)
    if checksum:
        detail = "its checksum (.crc) no longer matches: the file changed after it was written"
    elif bad_json:
        # Jackson's message goes on with a "(start marker at [Source: ...])" locator.
        detail = "not valid JSON: " + first_line(chain[-1].message, MAX_DETAIL).split(" (", 1)[0]
    else:
        detail = first_line(chain[-1].message, MAX_DETAIL) or chain[-1].short_name
    shown = _local(path)
    if "/_delta_log/" in shown:
        return Diagnosis(
            "corrupt_log",
            f"the Delta log entry {shown} is corrupt ({detail}); restore that file from a "
            "backup of the table",
        )
    return Diagnosis("unreadable_file", f"{shown} cannot be read ({detail})")


def _not_a_folder(path: str) -> Diagnosis:
    return Diagnosis(
        "not_a_folder",
        f"{path} is a file, not a folder, so nothing can be written under it; move that file "
        "away (or point DELTA_ROOT elsewhere) and re-run",
    )


def _denied(path: str) -> Diagnosis:
    return Diagnosis(
        "permission",
        f"permission denied on {path}; give the user running the job access to it (or point "
        "DELTA_ROOT elsewhere) and re-run",
    )


def _denied_path(e: JavaError) -> str | None:
    if e.short_name == "AccessDeniedException" and e.message.strip():
        return _local(e.message.strip().split()[0])
    found = re.search(r"(\S+) \((?:Permission denied|Operation not permitted)\)", e.message)
    return _local(found.group(1)) if found else None


def _cannot_create(path: str) -> Diagnosis:
    """Hadoop reports a failed mkdir without its reason; ask the file system for it."""
    if "://" not in path:
        ancestor = Path(path)
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            return _not_a_folder(str(ancestor))
        try:
            Path(tempfile.mkdtemp(prefix=".skewless-probe-", dir=ancestor)).rmdir()
        except PermissionError:
            return _denied(str(ancestor))
        except OSError as exc:
            return Diagnosis("cannot_create", f"cannot create {path}: {exc.strerror}")
    return Diagnosis("cannot_create", f"cannot create {path}; check it can be written and re-run")


def _log_file(table: str | None, version: int) -> str:
    name = f"{version:020d}.json"
    return f"{table}/_delta_log/{name}" if table else f"_delta_log/{name}"


def _local(path: str) -> str:
    """``file:/x`` and ``file:///x`` as ``/x``; other URIs unchanged."""
    return re.sub(r"^file:/+", "/", path.strip().rstrip(".")) if path else path

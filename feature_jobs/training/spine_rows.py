"""Row-level spine rules, and the one line that refuses a spine naming its first bad row.

Both engines count the same problems (null keys, null timestamps and, for text
timestamps, missing offsets and unparseable values) and name the first offending row:
its position in its file (``row N of part-0.parquet``, 1-based; ``line N of labels.csv``
for CSV, as an editor shows it) and the offending text. "First" is the least (file name,
position), whichever engine reads the files.

Text timestamps follow RFC 3339 (section 5.6) in full: ``T``, ``t`` or a space between
date and time, any fraction of a second down to microseconds (more digits only if they
are zeros: nothing is rounded away), and ``Z``, ``z`` or a numeric offset, converted to
UTC. The ISO 8601 offsets ``+hhmm`` and ``+hh`` are accepted too. Spaces around the text
are ignored. A text with no offset is naive and refused, never read in some zone.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feature_jobs.errors import TrainingSetError

#: A test of one value read back from a spine file (None for a null).
Problem = Callable[[object], bool]

# [0-9], not \d: Python's \d matches every script's digits, Java's only ASCII ones.
_OFFSET = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)"
_RFC3339 = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6}0*)?" + _OFFSET
#: Java regular expressions (Spark's ``rlike``) for a text that ends with an offset, and
#: for a whole RFC 3339 timestamp; ``\z`` is the very end (``$`` allows a final newline).
OFFSET_PATTERN = _OFFSET + r"\z"
RFC3339_PATTERN = "^" + _RFC3339 + r"\z"
#: At most this many characters of an offending value are quoted in a message.
QUOTED_CHARS = 40


def has_offset(text: str) -> bool:
    """True when a (space-trimmed) timestamp text ends with a time-zone offset."""
    return re.search(_OFFSET + r"\Z", text.strip(" ")) is not None


def parse_rfc3339(text: str) -> datetime | None:
    """The instant a timestamp text names, or None when it is not RFC 3339 (or no date)."""
    trimmed = text.strip(" ")
    if re.fullmatch(_RFC3339, trimmed) is None:
        return None
    try:
        return datetime.fromisoformat(trimmed.upper())
    except ValueError:  # a well-formed text naming no instant, such as February 30
        return None


@dataclass(frozen=True)
class FirstRow:
    """Where the first offending row of a problem is, and what it holds.

    Attributes:
        file: the file's name (not its folder).
        row: 1-based position among the file's rows (Parquet), if known.
        line: the line of a text file the row ends on (CSV), if known.
        value: the offending text; None for a null.
    """

    file: str
    row: int | None = None
    line: int | None = None
    value: str | None = None

    def describe(self) -> str:
        """``row 3 of part-0.parquet`` or ``line 4 of labels.csv, '2024-03-02 12:00'``."""
        place = (
            f"row {self.row}"
            if self.row is not None
            else f"line {self.line}"
            if self.line is not None
            else "a row"
        )
        text = f"{place} of {self.file}"
        if self.value is not None:
            shown = self.value[:QUOTED_CHARS] + ("..." if len(self.value) > QUOTED_CHARS else "")
            text += f", {shown!r}"
        return text


def raise_on_row_problems(
    stats: Mapping[str, object], ts: str, first: Mapping[str, FirstRow] | None = None
) -> None:
    """Refuse a spine from its row-check counts (``null:<key>``, ``null_ts``, ``naive``...).

    Args:
        first: for a problem's name, its first offending row (named in the message).

    Raises:
        TrainingSetError: one line naming every problem.
    """
    first = first or {}

    def at(name: str) -> str:
        return f" (first: {first[name].describe()})" if name in first else ""

    problems = []
    for name, value in stats.items():
        if name.startswith("null:") and value:
            key = name.split(":", 1)[1]
            problems.append(
                f"spine column {key!r} has {value} null or unparseable value(s){at(name)}; "
                "every row needs its entity key"
            )
    if stats["null_ts"]:
        problems.append(
            f"spine column {ts!r} has {stats['null_ts']} null value(s){at('null_ts')}; every "
            "row needs a timestamp"
        )
    if stats.get("naive"):
        problems.append(
            f"spine column {ts!r} has {stats['naive']} timestamp(s) without a time "
            f"zone{at('naive')}; add the offset (e.g. 2024-03-01T12:00:00Z)"
        )
    if stats.get("unparseable"):
        problems.append(
            f"spine column {ts!r} has {stats['unparseable']} value(s) that are not RFC 3339 "
            f"timestamps{at('unparseable')}; write them like 2024-03-01T12:00:00Z (at most "
            "microseconds)"
        )
    if problems:
        raise TrainingSetError("; ".join(problems))


def problem_test(name: str, long_key: bool = False, csv_text: bool = False) -> Problem:
    """Whether a value read back from a spine file has problem ``name``, as Spark decided.

    Args:
        long_key: the column is a ``long`` entity key.
        csv_text: values are CSV fields (an empty one is null, a key is still text).
    """
    if name.startswith("null:") and long_key and csv_text:
        return lambda value: value is None or not _is_long(str(value))
    if name.startswith("null:") or name == "null_ts":
        return lambda value: value is None
    if name == "naive":
        return lambda value: value is not None and not has_offset(str(value))
    return lambda value: (
        value is not None and has_offset(str(value)) and parse_rfc3339(str(value)) is None
    )


def first_row_in_file(file_uri: str, column: str, problem: Problem, csv_text: bool) -> FirstRow:
    """The first row of one spine file whose ``column`` has a problem.

    Spark says in which file the first problem is (the least file name) but gives no row
    positions for CSV or Delta: that file is read again here, up to that row only (a
    spine lives under the data root, on this machine).
    """
    parts = urlsplit(file_uri)
    path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(file_uri)
    try:
        if csv_text:
            return _csv_first(path, column, problem)
        return _parquet_first(path, column, problem)
    except OSError:  # gone since Spark read it: name the file alone
        return FirstRow(file=path.name)


def _csv_first(path: Path, column: str, problem: Problem) -> FirstRow:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        index = header.index(column) if column in header else None
        for record in reader:
            value = record[index] if index is not None and index < len(record) else ""
            if problem(value or None):  # Spark reads an empty field as null
                return FirstRow(file=path.name, line=reader.line_num, value=value or None)
    return FirstRow(file=path.name)


def _parquet_first(path: Path, column: str, problem: Problem) -> FirstRow:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    seen = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536, columns=[column]):
        values = batch.column(0)
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            texts = values.to_pylist()
        else:  # a key or a timestamp: only whether it is null matters
            texts = [None if null else "" for null in pc.is_null(values).to_pylist()]
        for index, value in enumerate(texts):
            if problem(value):
                return FirstRow(file=path.name, row=seen + index + 1, value=value or None)
        seen += len(texts)
    return FirstRow(file=path.name)


def _is_long(text: str) -> bool:
    return re.fullmatch(r"[+-]?[0-9]{1,19}", text) is not None and -(2**63) <= int(text) < 2**63

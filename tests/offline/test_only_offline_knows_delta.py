"""Only ``feature_jobs/offline/`` knows Delta: no other module reads or writes a Delta table
itself, pins a version, or builds a path under the warehouse (grep over the code, with
docstrings and comments left out: they may name the tables a module's callers see)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The product code: the engine, the DAGs, the scripts and the benchmarks.
SCANNED = ("feature_jobs", "dags", "scripts", "bench")
OWNER = ROOT / "feature_jobs" / "offline"
FORBIDDEN = {
    'format("delta")': re.compile(r"""\.format\(\s*["']delta["']\s*\)"""),
    "DeltaTable": re.compile(r"\bDeltaTable\b|\bDeltaLog\b"),
    "versionAsOf": re.compile(r"versionAsOf|timestampAsOf"),
    "a _skewless/ table": re.compile(r"\b_skewless\b"),
    "an /offline/ table": re.compile(r"/offline\b"),
    "a path built on delta_root": re.compile(r"delta_root[\s)}\]]*[/+]"),
}


def code_lines(path: Path) -> list[tuple[int, str]]:
    """The file's lines without docstrings and comments (numbered from 1)."""
    source = path.read_text(encoding="utf-8")
    prose: set[int] = set()
    scopes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, scopes) and ast.get_docstring(node, clean=False) is not None:
            first = node.body[0]
            prose.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
    return [(i, line) for i, line in enumerate(lines, 1) if i not in prose]


def scanned_files() -> list[Path]:
    files = [p for folder in SCANNED for p in sorted((ROOT / folder).rglob("*.py"))]
    return [p for p in files if OWNER not in p.parents]


def test_the_scan_sees_the_code_that_matters() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert {
        "feature_jobs/materialize.py",
        "feature_jobs/online/sync.py",
        "bench/sync_bench.py",
    } <= files
    assert not any(f.startswith("feature_jobs/offline/") for f in files)


@pytest.mark.parametrize("pattern", sorted(FORBIDDEN))
def test_the_patterns_catch_what_they_forbid(pattern: str) -> None:
    offending = {
        'format("delta")': 'spark.read.format("delta").load(path)',
        "DeltaTable": "from delta.tables import DeltaTable",
        "versionAsOf": '.option("versionAsOf", 3)',
        "a _skewless/ table": 'f"{root}/_skewless/profiles"',
        "an /offline/ table": 'f"{root}/offline/{view}"',
        "a path built on delta_root": 'Path(settings.delta_root) / "offline"',
    }[pattern]
    assert FORBIDDEN[pattern].search(offending)
    assert not FORBIDDEN[pattern].search('F.col("__skewless_asof") + "offline/<view>"')


def test_no_module_outside_offline_touches_delta_itself() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}"
        for path in scanned_files()
        for number, line in code_lines(path)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]
    assert found == [], "call feature_jobs.offline instead:\n" + "\n".join(found)

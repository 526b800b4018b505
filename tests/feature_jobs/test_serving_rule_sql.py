"""The serving rule rendered as SQL gives, in DuckDB, exactly what ``decide`` gives in Python."""

from __future__ import annotations

import duckdb
import pytest

from feature_jobs.serving_rule import (
    Fill,
    decide,
    fill_value,
    sql_fill_value,
    sql_outcome,
    truth_table,
)

ON_STALE = ("default", "serve", "reject")


@pytest.mark.parametrize("on_stale", ON_STALE)
def test_sql_outcome_equals_decide_on_every_input(on_stale: str) -> None:
    con = duckdb.connect()
    status, fill = sql_outcome("hs", "st", "pr", on_stale)
    rows = [(s, o, p) for s in (False, True) for o in (False, True) for p in (False, True)]
    values = ", ".join(f"({s}, {o}, {p})" for s, o, p in rows)
    got = con.execute(
        f"SELECT hs, st, pr, {status}, {fill} FROM (VALUES {values}) AS v(hs, st, pr)"
    ).fetchall()
    assert len(got) == 8
    for hs, st, pr, got_status, got_fill in got:
        expected = decide(hs, st, pr, on_stale)
        assert (got_status, got_fill) == (expected.status.value, expected.fill.value)


def test_truth_table_lists_each_combination_once_with_decides_outcome() -> None:
    table = truth_table("serve")
    assert len({(r.has_snapshot, r.stale, r.entity_present) for r in table}) == 8
    assert all(
        r.outcome == decide(r.has_snapshot, r.stale, r.entity_present, "serve") for r in table
    )


@pytest.mark.parametrize("fill", list(Fill))
@pytest.mark.parametrize("value", [None, 2.5])
def test_sql_fill_value_equals_fill_value(fill: Fill, value: float | None) -> None:
    con = duckdb.connect()
    expr = sql_fill_value("$fill", "$value", "$default", "DOUBLE")
    got = con.execute(
        f"SELECT {expr}", {"fill": fill.value, "value": value, "default": -1.0}
    ).fetchone()
    assert got is not None
    assert got[0] == fill_value(fill, value, -1.0)

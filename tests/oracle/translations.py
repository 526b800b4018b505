"""Hand translations of the demo views' Spark SQL expressions into Python, for the oracle.

Each entry records the SQL text it translates. The oracle compares that text with the
definition it is given and refuses to run on any difference, so a changed definition
cannot slip past the oracle test: whoever edits an expression edits its translation here.

Keys, per view: ``filter`` (the view filter), ``derived:<column>``, ``filter:<feature>``
and ``expression:<feature>``; per source: ``filter``. Functions take one event as a dict
and follow SQL's NULL rules: a comparison with NULL is NULL (None), and a filter keeps a
row only when its predicate is exactly True.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Event = dict[str, Any]


@dataclass(frozen=True)
class Translation:
    """A Spark SQL expression and the Python function computing the same value."""

    sql: str
    fn: Callable[[Event], Any]


def equals(value: Any, literal: Any) -> bool | None:
    """SQL ``value = literal``: NULL when the value is NULL."""
    return None if value is None else value == literal


def less(value: Any, literal: Any) -> bool | None:
    """SQL ``value < literal``: NULL when the value is NULL."""
    return None if value is None else value < literal


def greater(value: Any, literal: Any) -> bool | None:
    """SQL ``value > literal``: NULL when the value is NULL."""
    return None if value is None else value > literal


def utc_hour(ts: datetime | None) -> int | None:
    """SQL ``hour(ts)`` in a session whose time zone is UTC."""
    return None if ts is None else ts.hour


def spark_round(value: float | None) -> float | None:
    """SQL ``round(double)``: half away from zero on the double's shortest decimal form.

    Spark rounds ``BigDecimal(Double.toString(x))`` with HALF_UP; Python's ``repr`` is the
    same shortest round-trip form. (Python's own ``round`` rounds half to even.)
    """
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_bigint(value: float | None) -> int | None:
    """SQL ``CAST(double AS BIGINT)``: truncation toward zero."""
    return None if value is None else int(value)


def amount_in_eur(event: Event) -> float | None:
    """``amount * CASE currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END``.

    A NULL currency matches no WHEN and takes the ELSE branch. Spark multiplies a double by
    a decimal literal in double arithmetic, as Python does here.
    """
    amount = event["amount"]
    if amount is None:
        return None
    rate = {"USD": 0.92, "GBP": 1.17}.get(event["currency"], 1.0)
    return amount * rate


APPROVED = Translation("status = 'approved'", lambda e: equals(e["status"], "approved"))

#: Per view name: the translation of every expression the view uses.
VIEW_TRANSLATIONS: dict[str, dict[str, Translation]] = {
    "user_transaction_stats": {"filter": APPROVED},
    "merchant_transaction_stats": {"filter": APPROVED},
    "user_risk_signals": {
        "derived:is_night": Translation(
            "hour(event_ts) < 6", lambda e: less(utc_hour(e["event_ts"]), 6)
        ),
        "derived:amount_eur": Translation(
            "amount * CASE currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END",
            amount_in_eur,
        ),
        "filter:night_txn_count_7d": Translation("is_night", lambda e: e["is_night"]),
        "filter:declined_count_7d": Translation(
            "status = 'declined'", lambda e: equals(e["status"], "declined")
        ),
        "filter:online_amount_eur_sum_1d": Translation(
            "channel = 'online'", lambda e: equals(e["channel"], "online")
        ),
        "filter:large_txn_count_30d": Translation(
            "amount_eur > 500", lambda e: greater(e["amount_eur"], 500)
        ),
        "expression:max_amount_cents_1d": Translation(
            "CAST(round(amount * 100) AS BIGINT)",
            lambda e: to_bigint(spark_round(None if e["amount"] is None else e["amount"] * 100)),
        ),
    },
}

#: Per source name: the translation of the source's own filter, if it has one.
SOURCE_TRANSLATIONS: dict[str, dict[str, Translation]] = {"transactions": {}}

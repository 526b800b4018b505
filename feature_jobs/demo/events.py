"""Card transactions of the demo domain as they happen, and as they are delivered.

Times are integer microseconds since the Unix epoch (UTC) until they are written: exact,
and free of any time-zone or float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from feature_jobs.demo.domain import (
    CATEGORY_ONLINE,
    FAVOURITES,
    NIGHT_OWL_HOURS,
    WEEKDAY_FACTOR,
    WEEKDAY_HOURS,
    WEEKEND_HOURS,
    Merchants,
    Users,
    ticket_amounts,
)

MICROS_PER_MINUTE = 60_000_000
MICROS_PER_HOUR = 60 * MICROS_PER_MINUTE
MICROS_PER_DAY = 24 * MICROS_PER_HOUR

#: Share of transactions delivered 1-4 days after they happened (the rest: 0-10 minutes).
LATE_SHARE = 0.03
#: Share of transactions the network delivers a second time, identical, later.
DUPLICATE_SHARE = 0.02
#: Rough conversion to EUR, used to decide what counts as a large payment.
TO_EUR = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}


@dataclass(frozen=True)
class Events:
    """One element per transaction (not per delivery); arrays of equal length."""

    transaction_id: np.ndarray  # str
    user_idx: np.ndarray  # int index into Users
    merchant_idx: np.ndarray  # int index into Merchants
    event_us: np.ndarray  # int64 microseconds since epoch, UTC
    amount: np.ndarray  # float64, merchant currency
    online: np.ndarray  # bool
    declined: np.ndarray  # bool
    night: np.ndarray  # bool: 00:00-06:00 UTC
    foreign: np.ndarray  # bool: merchant country differs from the card holder's home
    large: np.ndarray  # bool: above 500 EUR

    def __len__(self) -> int:
        return len(self.event_us)


@dataclass(frozen=True)
class Deliveries:
    """One element per delivered row: index into Events and the ingestion time."""

    event_idx: np.ndarray  # int
    ingested_us: np.ndarray  # int64
    late: np.ndarray  # bool: the event arrived days after it happened
    duplicate: np.ndarray  # bool: a second delivery of an event already delivered


def epoch_micros(day: date) -> int:
    """00:00 UTC of ``day`` as microseconds since the epoch."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


def draw_events(
    rng: np.random.Generator, users: Users, merchants: Merchants, start: date, days: int
) -> Events:
    """Draw every transaction of ``days`` days from ``start``, sorted by time."""
    parts = [_one_day(rng, users, merchants, start + timedelta(days=d)) for d in range(days)]
    user_idx = np.concatenate([p[0] for p in parts])
    merchant_idx = np.concatenate([p[1] for p in parts])
    event_us = np.concatenate([p[2] for p in parts])
    amount = np.concatenate([p[3] for p in parts])
    online = np.concatenate([p[4] for p in parts])
    order = np.lexsort((merchant_idx, user_idx, event_us))
    user_idx, merchant_idx, event_us = user_idx[order], merchant_idx[order], event_us[order]
    amount, online = amount[order], online[order]

    night = (event_us % MICROS_PER_DAY) < 6 * MICROS_PER_HOUR
    foreign = merchants.country[merchant_idx] != users.home[user_idx]
    to_eur = np.array([TO_EUR[c] for c in merchants.currency[merchant_idx]], dtype=np.float64)
    large = amount * to_eur > 500.0
    # Issuers decline more of what looks risky: night-time, abroad, large.
    decline_p = 0.04 + 0.04 * night + 0.05 * foreign + 0.08 * large
    declined = rng.random(len(event_us)) < decline_p
    return Events(
        transaction_id=_transaction_ids(rng, len(event_us)),
        user_idx=user_idx,
        merchant_idx=merchant_idx,
        event_us=event_us,
        amount=amount,
        online=online,
        declined=declined,
        night=night,
        foreign=foreign,
        large=large,
    )


def _one_day(
    rng: np.random.Generator, users: Users, merchants: Merchants, day: date
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shopping of every card holder on one day, plus the subscriptions billed that day."""
    weekday = day.weekday()
    counts = rng.poisson(users.daily_rate * WEEKDAY_FACTOR[weekday])
    user_idx = np.repeat(np.arange(len(users.ids)), counts)
    n = len(user_idx)
    profile = WEEKEND_HOURS if weekday >= 5 else WEEKDAY_HOURS
    usual_hour = rng.choice(24, size=n, p=profile / profile.sum())
    owl_hour = rng.choice(24, size=n, p=NIGHT_OWL_HOURS / NIGHT_OWL_HOURS.sum())
    hour = np.where(users.night_owl[user_idx], owl_hour, usual_hour)
    event_us = epoch_micros(day) + hour * MICROS_PER_HOUR + rng.integers(0, MICROS_PER_HOUR, size=n)
    # Mostly the favourite shops; sometimes any shop (often abroad for travellers).
    favourite = users.favourites[user_idx, rng.integers(0, FAVOURITES, size=n)]
    anywhere = rng.choice(len(merchants.ids), size=n, p=merchants.popularity)
    elsewhere = rng.random(n) < users.foreign_share[user_idx]
    merchant_idx = np.where(elsewhere, anywhere, favourite)
    amount = ticket_amounts(rng, merchants, merchant_idx)
    online = rng.random(n) < CATEGORY_ONLINE[merchants.category[merchant_idx]]

    # Subscriptions are billed at exactly 00:00:00 UTC: round timestamps on the snapshot
    # boundaries, and several at the same instant for people with more than one.
    billed = [
        (u, m, a) for u, subs in enumerate(users.subscriptions) for m, d, a in subs if d == day.day
    ]
    sub_user = np.array([b[0] for b in billed], dtype=np.int64)
    sub_merchant = np.array([b[1] for b in billed], dtype=np.int64)
    sub_amount = np.array([b[2] for b in billed], dtype=np.float64)
    return (
        np.concatenate([user_idx, sub_user]),
        np.concatenate([merchant_idx, sub_merchant]),
        np.concatenate([event_us, np.full(len(billed), epoch_micros(day), dtype=np.int64)]),
        np.concatenate([amount, sub_amount]),
        np.concatenate([online, np.ones(len(billed), dtype=bool)]),
    )


def _transaction_ids(rng: np.random.Generator, count: int) -> np.ndarray:
    """Random, unique, opaque ids (their order says nothing about time)."""
    while True:
        raw = rng.integers(0, 2**63, size=count, dtype=np.int64)
        if len(np.unique(raw)) == count:
            return np.array([f"tx_{v:016x}" for v in raw.tolist()])


def deliver(rng: np.random.Generator, events: Events) -> Deliveries:
    """When each event reaches the lake: most within minutes, some days late, some twice."""
    n = len(events)
    late = rng.random(n) < LATE_SHARE
    delay = np.where(
        late,
        rng.integers(MICROS_PER_DAY, 4 * MICROS_PER_DAY + 1, size=n),
        rng.integers(0, 10 * MICROS_PER_MINUTE + 1, size=n),
    )
    ingested = events.event_us + delay
    again = np.flatnonzero(rng.random(n) < DUPLICATE_SHARE)
    redelivered = ingested[again] + rng.integers(
        MICROS_PER_MINUTE, 36 * MICROS_PER_HOUR, size=len(again)
    )
    event_idx = np.concatenate([np.arange(n), again])
    ingested_us = np.concatenate([ingested, redelivered])
    duplicate = np.concatenate([np.zeros(n, dtype=bool), np.ones(len(again), dtype=bool)])
    # Rows are stored in arrival order, as an ingestion job would append them.
    order = np.lexsort((events.transaction_id[event_idx], ingested_us))
    return Deliveries(
        event_idx=event_idx[order],
        ingested_us=ingested_us[order],
        late=late[event_idx][order],
        duplicate=duplicate[order],
    )


def chargebacks(rng: np.random.Generator, events: Events) -> np.ndarray:
    """Whether each approved event is later charged back (risky patterns far more often)."""
    p = 0.006 + 0.06 * events.night + 0.05 * events.foreign + 0.08 * events.large
    return (rng.random(len(events)) < p) & ~events.declined

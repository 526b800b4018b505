"""The population of the demo domain: card holders, merchants and their habits.

Everything here is drawn from one ``numpy.random.Generator`` in a fixed order, so the same
seed always yields the same people and shops. Amounts are in the merchant's currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Countries of the demo, their currency and how many card holders live there.
COUNTRIES: tuple[str, ...] = ("DE", "FR", "NL", "ES", "IT", "GB", "US")
CURRENCY: dict[str, str] = {"GB": "GBP", "US": "USD"}  # every other country pays in EUR
HOME_WEIGHTS = np.array([0.30, 0.20, 0.10, 0.10, 0.10, 0.12, 0.08])
MERCHANT_COUNTRY_WEIGHTS = np.array([0.25, 0.17, 0.09, 0.10, 0.09, 0.13, 0.17])

#: Merchant categories: share of merchants, median ticket, ticket spread (lognormal sigma),
#: probability that a payment is online (card not present).
CATEGORIES: tuple[str, ...] = (
    "grocery",
    "restaurant",
    "fuel",
    "fashion",
    "electronics",
    "travel",
    "digital",
)
CATEGORY_SHARE = np.array([0.25, 0.24, 0.10, 0.12, 0.08, 0.07, 0.14])
CATEGORY_MEDIAN = np.array([35.0, 28.0, 55.0, 60.0, 180.0, 250.0, 12.0])
CATEGORY_SIGMA = np.array([0.6, 0.5, 0.3, 0.7, 0.9, 0.8, 0.6])
CATEGORY_ONLINE = np.array([0.05, 0.02, 0.0, 0.35, 0.45, 0.65, 1.0])
DIGITAL = CATEGORIES.index("digital")

#: Relative activity per hour of day (UTC), for weekdays and for weekends: almost nothing
#: at night, a lunch peak and a larger evening peak; weekends start later and run later.
WEEKDAY_HOURS = np.array(
    [0.3, 0.15, 0.1, 0.1, 0.15, 0.4, 1.0, 2.2, 3.0, 3.2, 3.6, 4.5,
     6.0, 5.6, 4.2, 3.9, 4.3, 5.4, 6.4, 6.2, 5.0, 3.4, 1.8, 0.8]
)  # fmt: skip
WEEKEND_HOURS = np.array(
    [0.9, 0.6, 0.35, 0.2, 0.15, 0.2, 0.35, 0.8, 1.6, 2.8, 4.2, 5.4,
     6.0, 6.0, 5.6, 5.2, 5.2, 5.6, 6.0, 6.0, 5.4, 4.2, 2.6, 1.5]
)  # fmt: skip
#: Night owls spend a large part of their activity between 00:00 and 06:00.
NIGHT_OWL_HOURS = np.array(
    [5.0, 5.0, 4.5, 4.0, 3.0, 2.0, 0.5, 0.5, 0.8, 1.0, 1.2, 1.5,
     2.0, 2.0, 1.5, 1.5, 1.8, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]
)  # fmt: skip
#: Monday .. Sunday: Friday and Saturday are busy, Sunday is quiet.
WEEKDAY_FACTOR = np.array([0.92, 0.95, 1.0, 1.0, 1.15, 1.3, 0.8])

#: How many favourite shops each card holder mostly returns to.
FAVOURITES = 8


@dataclass(frozen=True)
class Merchants:
    """Merchants, one array element each (index i is merchant ``ids[i]``)."""

    ids: np.ndarray  # int64
    country: np.ndarray  # str
    currency: np.ndarray  # str
    category: np.ndarray  # int index into CATEGORIES
    price_level: np.ndarray  # multiplier of the category's median ticket
    popularity: np.ndarray  # probability of being picked by a random customer (sums to 1)


@dataclass(frozen=True)
class Users:
    """Card holders, one array element each (index i is user ``ids[i]``)."""

    ids: np.ndarray  # int64
    home: np.ndarray  # str, home country
    daily_rate: np.ndarray  # expected transactions per day on an average day
    night_owl: np.ndarray  # bool: shops mostly at night
    foreign_share: np.ndarray  # probability a payment is at a random (mostly foreign) shop
    favourites: np.ndarray  # int (users, FAVOURITES): merchant indices
    subscriptions: list[list[tuple[int, int, float]]]  # (merchant index, billing day, amount)


def make_merchants(rng: np.random.Generator, count: int) -> Merchants:
    """Draw ``count`` merchants with a country, category, price level and popularity."""
    country = rng.choice(COUNTRIES, size=count, p=MERCHANT_COUNTRY_WEIGHTS)
    category = rng.choice(len(CATEGORIES), size=count, p=CATEGORY_SHARE)
    price_level = rng.lognormal(0.0, 0.2, size=count)
    # A few big shops take much of the traffic (a skewed popularity).
    weight = rng.lognormal(0.0, 1.0, size=count)
    return Merchants(
        ids=np.arange(10_001, 10_001 + count, dtype=np.int64),
        country=country,
        currency=np.array([CURRENCY.get(c, "EUR") for c in country]),
        category=category,
        price_level=price_level,
        popularity=weight / weight.sum(),
    )


def make_users(rng: np.random.Generator, count: int, merchants: Merchants) -> Users:
    """Draw ``count`` card holders, their habits, favourite shops and subscriptions."""
    home = rng.choice(COUNTRIES, size=count, p=HOME_WEIGHTS)
    daily_rate = rng.gamma(2.0, 0.55, size=count)  # mean 1.1 transactions a day
    night_owl = rng.random(count) < 0.06
    traveller = rng.random(count) < 0.06
    foreign_share = np.where(traveller, 0.35, 0.03)
    favourites = np.empty((count, FAVOURITES), dtype=np.int64)
    for i in range(count):
        favourites[i] = _favourites(rng, merchants, str(home[i]))
    digital = np.flatnonzero(merchants.category == DIGITAL)
    subscriptions = [_subscriptions(rng, merchants, digital) for _ in range(count)]
    return Users(
        ids=np.arange(1, count + 1, dtype=np.int64),
        home=home,
        daily_rate=daily_rate,
        night_owl=night_owl,
        foreign_share=foreign_share,
        favourites=favourites,
        subscriptions=subscriptions,
    )


def _favourites(rng: np.random.Generator, merchants: Merchants, home: str) -> np.ndarray:
    """Mostly shops of the home country, weighted by popularity (any shop if there are none)."""
    weight = merchants.popularity * np.where(merchants.country == home, 1.0, 0.01)
    return rng.choice(len(merchants.ids), size=FAVOURITES, p=weight / weight.sum())


def _subscriptions(
    rng: np.random.Generator, merchants: Merchants, digital: np.ndarray
) -> list[tuple[int, int, float]]:
    """0-3 monthly subscriptions billed at 00:00:00 UTC, all on one day of the month.

    The billing day is the 1st for most card holders, else one drawn per card holder, so
    those with several subscriptions pay them at the same instant.
    """
    if len(digital) == 0 or rng.random() >= 0.35:
        return []
    count = int(rng.integers(1, 4))
    picked = rng.choice(digital, size=count, replace=len(digital) < count)
    day = 1 if rng.random() < 0.6 else int(rng.integers(1, 29))
    amounts = rng.choice([4.99, 7.99, 9.99, 12.99, 14.99], size=count)
    return [(int(m), day, float(a)) for m, a in zip(picked, amounts, strict=True)]


def ticket_amounts(
    rng: np.random.Generator, merchants: Merchants, merchant_idx: np.ndarray
) -> np.ndarray:
    """Lognormal ticket sizes per merchant category and price level, rounded to cents."""
    category = merchants.category[merchant_idx]
    median = CATEGORY_MEDIAN[category] * merchants.price_level[merchant_idx]
    raw = rng.lognormal(np.log(median), CATEGORY_SIGMA[category])
    return np.maximum(np.round(raw, 2), 0.5)

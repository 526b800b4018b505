"""Deterministic generator of the demo domain: card transactions and chargeback labels.

The domain: card holders (``user_id``, default 2,000) pay at merchants (``merchant_id``,
default 200) in seven countries (EUR, GBP and USD). Each merchant has a category
(grocery, restaurant, fuel, fashion, electronics, travel, digital) that sets a lognormal
ticket size and how often payments are online. People shop mostly at a handful of
favourite shops at home, little at night, with a lunch and a larger evening peak; weekends
start later, Friday and Saturday are busy and Sunday is quiet. About 6% are night owls,
about 6% travellers who often pay abroad. Digital subscriptions are billed at exactly
00:00:00 UTC (most on the 1st), so events sit on snapshot boundaries and some card holders
have several events at the same instant. Issuers decline about 5%, more at night, abroad
and for large amounts.

Delivery is imperfect like a real card feed: ~3% of events arrive 1-4 days late
(``ingested_ts`` days after ``event_ts``; the others within 10 minutes) and ~2% are
delivered twice (same ``transaction_id`` and content, a later ``ingested_ts``).

Written under ``<data_root>/raw/``:

* ``transactions/``: the source ``features.sources.transactions``, a few Parquet files
  split by ingestion period, rows in arrival order. Timestamps are microsecond Parquet
  timestamps with ``isAdjustedToUTC=true``, which Spark reads as ``TimestampType``.
* ``labels/``: the training spine, one row per approved transaction: ``transaction_id``,
  ``user_id``, ``merchant_id``, ``ts`` (its event time), ``is_chargeback`` (~1-2%, far more
  likely at night, abroad and for large amounts) and ``label_available_ts`` (30-90 days
  later, when the chargeback is known). Declined payments never settle, so carry no label.

The same arguments always write byte-identical files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from feature_jobs.demo.domain import make_merchants, make_users
from feature_jobs.demo.events import (
    MICROS_PER_DAY,
    Deliveries,
    Events,
    chargebacks,
    deliver,
    draw_events,
    epoch_micros,
)
from feature_jobs.errors import UnsafeInputError

UTC_MICROS = pa.timestamp("us", tz="UTC")

#: Arrow schema of ``raw/transactions``; matches ``features.sources.transactions``.
TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("user_id", pa.int64()),
        ("merchant_id", pa.int64()),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("country", pa.string()),
        ("channel", pa.string()),
        ("status", pa.string()),
        ("event_ts", UTC_MICROS),
        ("ingested_ts", UTC_MICROS),
    ]
)

#: Arrow schema of ``raw/labels``.
LABELS_SCHEMA = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("user_id", pa.int64()),
        ("merchant_id", pa.int64()),
        ("ts", UTC_MICROS),
        ("is_chargeback", pa.bool_()),
        ("label_available_ts", UTC_MICROS),
    ]
)

#: One transactions file per this many days of ingestion, as a daily loader would batch.
BATCH_DAYS = 15


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate` wrote."""

    data_root: Path
    start: date  # first day with events
    end: date  # last day with events
    users: int
    merchants: int
    transactions: int  # distinct transaction ids
    rows: int  # delivered rows written (transactions + duplicates)
    duplicates: int  # second deliveries
    late_events: int  # transactions ingested at least a day after they happened
    midnight_events: int  # transactions at exactly 00:00:00.000000 UTC
    declined: int
    labels: int  # rows of raw/labels (approved transactions)
    chargebacks: int
    files: int  # Parquet files under raw/transactions

    def __str__(self) -> str:
        return self.line()

    def line(self) -> str:
        """A one-line summary for the CLI."""
        return (
            f"demo data {self.start}..{self.end}: {self.users} users, {self.merchants} "
            f"merchants, {self.transactions} transactions in {self.rows} rows "
            f"({self.duplicates} duplicates, {self.late_events} late, {self.declined} "
            f"declined, {self.midnight_events} at midnight), {self.labels} labels "
            f"({self.chargebacks} chargebacks) under {self.data_root / 'raw'}"
        )


def generate(
    data_root: Path,
    *,
    days: int = 45,
    end: date,
    users: int = 2000,
    merchants: int = 200,
    seed: int = 7,
) -> DemoSummary:
    """Write the demo's raw transactions and labels under ``<data_root>/raw/``.

    Existing ``raw/transactions`` and ``raw/labels`` folders are replaced as a whole (the
    new files are written aside first, so a failure leaves the old ones).

    Args:
        data_root: the data root (``SKEWLESS_DATA_ROOT``).
        days: how many days of events, ending with ``end``.
        end: the last day with events (UTC).
        users: number of card holders.
        merchants: number of merchants.
        seed: seed of the random generator; the same arguments give the same bytes.

    Returns:
        Counts and the date range of what was written.
    """
    _check_args(days, end, users, merchants)
    start = end - timedelta(days=days - 1)
    rng = np.random.default_rng(seed)
    shops = make_merchants(rng, merchants)
    people = make_users(rng, users, shops)
    events = draw_events(rng, people, shops, start, days)
    deliveries = deliver(rng, events)
    is_chargeback = chargebacks(rng, events)
    label_delay = rng.integers(30 * MICROS_PER_DAY, 90 * MICROS_PER_DAY + 1, size=len(events))

    columns = {
        "transaction_id": events.transaction_id,
        "user_id": people.ids[events.user_idx],
        "merchant_id": shops.ids[events.merchant_idx],
        "amount": events.amount,
        "currency": shops.currency[events.merchant_idx],
        "country": shops.country[events.merchant_idx],
        "channel": np.where(events.online, "online", "pos"),
        "status": np.where(events.declined, "declined", "approved"),
        "event_ts": events.event_us,
    }
    raw = Path(data_root) / "raw"
    files = _write_transactions(raw / "transactions", columns, deliveries, start)
    approved = ~events.declined
    labels = {
        "transaction_id": events.transaction_id[approved],
        "user_id": columns["user_id"][approved],
        "merchant_id": columns["merchant_id"][approved],
        "ts": events.event_us[approved],
        "is_chargeback": is_chargeback[approved],
        "label_available_ts": (events.event_us + label_delay)[approved],
    }
    _replace_folder(raw / "labels", {"labels.parquet": _table(LABELS_SCHEMA, labels)})
    summary = _summary(raw.parent, start, end, people.ids, shops.ids, events, deliveries)
    return replace(summary, files=files, chargebacks=int(labels["is_chargeback"].sum()))


def _check_args(days: int, end: date, users: int, merchants: int) -> None:
    if not isinstance(end, date):
        raise UnsafeInputError(f"demo end {end!r} is not a date; give a datetime.date")
    for name, value in (("days", days), ("users", users), ("merchants", merchants)):
        if not isinstance(value, int) or value < 1:
            raise UnsafeInputError(f"demo {name}={value!r}; give a positive whole number")


def _write_transactions(
    folder: Path, columns: dict[str, np.ndarray], deliveries: Deliveries, start: date
) -> int:
    """Write one file per ``BATCH_DAYS`` days of ingestion; return how many files."""
    rows = {name: values[deliveries.event_idx] for name, values in columns.items()}
    rows["ingested_ts"] = deliveries.ingested_us
    batch = (deliveries.ingested_us - epoch_micros(start)) // (BATCH_DAYS * MICROS_PER_DAY)
    tables = {}
    for index in np.unique(batch).tolist():
        first_day = start + timedelta(days=int(index) * BATCH_DAYS)
        part = {name: values[batch == index] for name, values in rows.items()}
        tables[f"ingested-{first_day.isoformat()}.parquet"] = _table(TRANSACTIONS_SCHEMA, part)
    _replace_folder(folder, tables)
    return len(tables)


def _table(schema: pa.Schema, columns: dict[str, np.ndarray]) -> pa.Table:
    return pa.table([pa.array(columns[f.name], type=f.type) for f in schema], schema=schema)


def _replace_folder(folder: Path, tables: dict[str, pa.Table]) -> None:
    """Write the files next to ``folder``, then swap them in (hidden names Spark skips)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.new")
    retired = folder.with_name(f".{folder.name}.old")
    for leftover in (staging, retired):
        shutil.rmtree(leftover, ignore_errors=True)
    staging.mkdir()
    for name, table in tables.items():
        pq.write_table(table, staging / name, compression="snappy")
    if folder.exists():
        folder.rename(retired)
    staging.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)


def _summary(
    data_root: Path,
    start: date,
    end: date,
    user_ids: np.ndarray,
    merchant_ids: np.ndarray,
    events: Events,
    deliveries: Deliveries,
) -> DemoSummary:
    approved = ~events.declined
    return DemoSummary(
        data_root=data_root,
        start=start,
        end=end,
        users=len(user_ids),
        merchants=len(merchant_ids),
        transactions=len(events),
        rows=len(deliveries.event_idx),
        duplicates=int(deliveries.duplicate.sum()),
        late_events=int((deliveries.late & ~deliveries.duplicate).sum()),
        midnight_events=int((events.event_us % MICROS_PER_DAY == 0).sum()),
        declined=int(events.declined.sum()),
        labels=int(approved.sum()),
        chargebacks=0,  # filled in by generate()
        files=0,  # filled in by generate()
    )

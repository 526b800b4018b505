"""Break the demo on purpose: append a delivery of bad transactions to ``raw/transactions``.

The next materialize of the day they land on fails validation: amounts far above what the
issuer authorises and below zero push the users' and merchants' averages, maxima and
minima outside the range ``schemas/sources.py`` declares for ``amount``. The batch goes
to quarantine, an alert names the views, date, checks and rows, and nothing is written to
``offline/`` or published. Remove the file (its name is returned) to heal the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from feature_jobs.demo.generator import TRANSACTIONS_SCHEMA
from feature_jobs.errors import SourceDataError

BAD_FILE = "zz-injected-bad-data.parquet"
#: (user_id, merchant_id, amount): the first users and merchants of the demo population.
BAD_PAYMENTS = (
    (1, 10_001, 2_500_000_000.0),  # a 2.5 billion card payment: far above any limit
    (2, 10_002, -250.0),  # a negative payment: refunds are not transactions
    (3, 10_001, 999_999_999.0),
)


@dataclass(frozen=True)
class InjectedBadData:
    """What :func:`inject_bad_data` wrote."""

    path: Path
    day: date
    rows: int
    user_ids: tuple[int, ...]

    def line(self) -> str:
        """One line for the CLI."""
        return (
            f"injected {self.rows} bad transactions on {self.day} for users "
            f"{', '.join(map(str, self.user_ids))} into {self.path}; the next materialize "
            f"of {self.day} fails validation (delete the file to undo)"
        )


def inject_bad_data(data_root: Path, day: date | None = None) -> InjectedBadData:
    """Append bad transactions dated ``day`` (default: the last day of the demo data).

    Args:
        data_root: the demo's data root (``SKEWLESS_DATA_ROOT``).
        day: the logical date to break; its snapshot is the one that fails.
    """
    folder = Path(data_root) / "raw" / "transactions"
    if not folder.is_dir():
        raise SourceDataError(f"no demo data at {folder}; run `python -m feature_jobs demo` first")
    day = day or _last_event_day(folder)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    columns: dict[str, list[object]] = {name: [] for name in TRANSACTIONS_SCHEMA.names}
    for i, (user_id, merchant_id, amount) in enumerate(BAD_PAYMENTS):
        event_ts = noon + timedelta(minutes=i)
        values = {
            "transaction_id": f"bad-{day.isoformat()}-{i}",
            "user_id": user_id,
            "merchant_id": merchant_id,
            "amount": amount,
            "currency": "EUR",
            "country": "DE",
            "channel": "pos",
            "status": "approved",
            "event_ts": event_ts,
            "ingested_ts": event_ts + timedelta(minutes=5),
        }
        for name, value in values.items():
            columns[name].append(value)
    table = pa.table(
        [pa.array(columns[f.name], type=f.type) for f in TRANSACTIONS_SCHEMA],
        schema=TRANSACTIONS_SCHEMA,
    )
    path = folder / BAD_FILE
    pq.write_table(table, path)
    return InjectedBadData(path, day, table.num_rows, tuple(u for u, _, _ in BAD_PAYMENTS))


def _last_event_day(folder: Path) -> date:
    """The latest event date, from Parquet footers only (no data is read)."""
    latest: datetime | None = None
    for file in sorted(folder.glob("*.parquet")):
        metadata = pq.ParquetFile(file).metadata
        index = metadata.schema.names.index("event_ts")
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(index).statistics
            if stats is not None and stats.has_min_max:
                value = stats.max
                if latest is None or value > latest:
                    latest = value
    if latest is None:
        raise SourceDataError(f"{folder} holds no transactions; run the demo first")
    return latest.astimezone(UTC).date() if latest.tzinfo else latest.date()

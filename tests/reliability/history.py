"""Source data of the reliability suite and what every snapshot of it must hold.

Every user buys twice a day. Amounts grow with the day (multiples of 1/4, so sums are
exact in binary), so ``sum_7d`` of a user differs between any two consecutive snapshots:
a reader that saw a mix of two snapshots, or an older one after a newer one, is caught.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from feature_jobs.definitions import FeatureView
from feature_jobs.timeutil import day_start
from tests.feature_jobs.tiny_domain import event, write_events
from tests.oracle import snapshot_oracle

FIRST_DAY = date(2024, 2, 20)
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)
USERS = 150
COUNTRIES = ("FR", "DE", "US", "JP")


def snapshot_time(day: date) -> datetime:
    """feature_ts of the daily snapshot of ``day``."""
    return day_start(day) + timedelta(days=1)


def events_of(day: date, users: range | list[int]) -> list[dict[str, object]]:
    """The events of one day: two per user, at 06:00 and 18:30."""
    n = (day - FIRST_DAY).days
    rows = []
    for user in users:
        for k, hour in enumerate((6, 18)):
            rows.append(
                event(
                    f"{day:%Y%m%d}-{user}-{k}",
                    user,
                    8.0 * n + (user % 16) * 0.25 + k,
                    day_start(day) + timedelta(hours=hour, minutes=30 * k),
                    country=COUNTRIES[(user + n + k) % len(COUNTRIES)],
                )
            )
    return rows


def write_history(
    data_root: Path, last_day: date = D3, users: int = USERS, name: str = "history"
) -> None:
    """Events of every user on every day from FIRST_DAY to ``last_day``."""
    rows: list[dict[str, object]] = []
    day = FIRST_DAY
    while day <= last_day:
        rows += events_of(day, range(users))
        day += timedelta(days=1)
    write_events(data_root, rows, name=name)


def write_spine(path: Path, users: list[int], times: list[datetime]) -> Path:
    """A Parquet spine (user_id, ts as UTC microseconds, label): one row per user and time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [(u, t, u % 2) for u in users for t in times]
    frame = pd.DataFrame(rows, columns=["user_id", "ts", "label"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).astype("datetime64[us, UTC]")
    frame.to_parquet(path, index=False)
    return path


def oracle_snapshot(data_root: Path, view: FeatureView, day: date) -> pd.DataFrame:
    """The snapshot of ``view`` for ``day`` recomputed from the raw files, by brute force."""
    raw = snapshot_oracle.read_source(data_root, view.source)
    return snapshot_oracle.compute(view, raw, snapshot_time(day))


def served_values(frame: pd.DataFrame, view: FeatureView) -> dict[int, tuple[Any, ...]]:
    """``{user_id: (feature values...)}`` of a snapshot frame, as plain Python values."""
    names = [f.name for f in view.features]
    return {
        int(row["user_id"]): tuple(_plain(row[n]) for n in names)
        for row in frame.to_dict("records")
    }


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value

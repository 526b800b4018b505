"""Run ids: minted for manual runs, checked wherever one comes in.

A run id is stored in Delta rows, Redis metadata, lock records and alerts, so only plain
ids are accepted: what Airflow and :func:`new_run_id` produce.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from feature_jobs.errors import UnsafeInputError
from feature_jobs.timeutil import utc_now

_RUN_ID = re.compile(r"^[A-Za-z0-9_.:+\-]{1,128}$")


def new_run_id(now: datetime | None = None) -> str:
    """A unique run id for manual runs (Airflow passes its own)."""
    moment = now or utc_now()
    return f"manual__{moment:%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"


def checked_run_id(run_id: str | None, flag: str = "--run-id") -> str | None:
    """``run_id`` if it is a plain id (what Airflow and ``new_run_id`` produce), else refuse."""
    if run_id is not None and not _RUN_ID.match(run_id):
        raise UnsafeInputError(
            f"{flag} {run_id[:80]!r} is invalid; use letters, digits and _ . : + - (max 128)"
        )
    return run_id

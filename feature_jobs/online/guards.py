"""Safeguards of the online publish path: sizes, shrinking snapshots, and one alert per failure.

* **Sizes.** An entity key over :data:`MAX_KEY_BYTES` or an encoded value row over
  :data:`MAX_VALUE_BYTES` is refused on the executor before the row is sent to Redis (a
  10 MB string would block the server while it copies it and blow the memory budget).
  Online reads refuse such keys before the round trip too.
* **Shrinking.** A snapshot with fewer than :data:`MIN_KEPT_FRACTION` of the rows of the
  live one is not published unless ``force`` is given (``sync --force``): a half-empty
  source usually means a broken upstream, and publishing would turn most entities into
  MISSING at once. (The validation gate's ``row_count_drop_pct`` already stops most such
  batches at materialize; this guard protects what is *served*.)
* **Alerts.** ``sync`` runs its work inside ``with alert_on_failure(...)``: a failure or
  refusal sends exactly one alert (kind ``sync.failed`` / ``sync.refused``) and re-raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from feature_jobs.errors import LockHeld, OnlineRequestError, PublishRefused, SkewlessError

#: Largest encoded entity key (all join keys of one entity) accepted online.
MAX_KEY_BYTES = 4 * 1024
#: Largest encoded row of feature values of one entity accepted online.
MAX_VALUE_BYTES = 1024 * 1024
#: A new snapshot must keep at least this fraction of the live snapshot's entities.
MIN_KEPT_FRACTION = 0.5

if TYPE_CHECKING:
    from feature_jobs.online.publish import SnapshotMeta
    from feature_jobs.settings import Settings


def check_sizes(fields: Sequence[bytes], values: Sequence[bytes], where: str) -> None:
    """Refuse an oversized entity key or value row (runs on the executors, per batch).

    Raises:
        PublishRefused: naming the entity (first bytes), its size and the limit.
    """
    for field, value in zip(fields, values, strict=True):
        if len(field) > MAX_KEY_BYTES:
            raise PublishRefused(
                f"{where}: an entity key is {_size(len(field))} (starts {field[:40]!r}), over "
                f"the {_size(MAX_KEY_BYTES)} limit of online keys; nothing was published - "
                "use shorter join keys (an id, or a hash of the long value)"
            )
        if len(value) > MAX_VALUE_BYTES:
            raise PublishRefused(
                f"{where}: the values of entity {field[:40]!r} are {_size(len(value))}, over "
                f"the {_size(MAX_VALUE_BYTES)} limit of one online row; nothing was "
                "published - shorten or drop the oversized feature in the definition"
            )


def check_read_key(field: bytes, where: str) -> None:
    """Refuse an oversized key in an online read before it is sent to Redis."""
    if len(field) > MAX_KEY_BYTES:
        raise OnlineRequestError(
            f"{where}: the entity key is {_size(len(field))}, over the {_size(MAX_KEY_BYTES)} "
            "limit of online keys; send the entity's id"
        )


def check_shrink(view: str, live: SnapshotMeta | None, new_rows: int, force: bool) -> None:
    """Refuse to replace a live snapshot by one with under half of its rows, unless forced.

    Raises:
        PublishRefused: with both counts and the way to force it.
    """
    if force or live is None or live.rows == 0:
        return
    if new_rows < MIN_KEPT_FRACTION * live.rows:
        raise PublishRefused(
            f"sync of {view}: the new snapshot has {new_rows} entities, under "
            f"{MIN_KEPT_FRACTION:.0%} of the {live.rows} served now (snapshot "
            f"{live.feature_ts.isoformat()}); "
            "nothing was published - check the source data, or re-run sync with --force "
            "to publish it anyway"
        )


@contextmanager
def alert_on_failure(
    settings: Settings, view: str, day: date, run_id: str | None
) -> Iterator[None]:
    """Send one alert when the sync of ``view`` for ``day`` run inside this block fails.

    The error is re-raised. A :class:`PublishRefused` is alerted as ``sync.refused``, any
    other :class:`SkewlessError` as ``sync.failed``; a :class:`LockHeld` is not alerted:
    another run of the same sync is doing the work.
    """
    try:
        yield
    except LockHeld:
        raise
    except SkewlessError as exc:
        _send(settings, view, day, run_id, exc)
        raise


def _send(settings: Settings, view: str, day: date, run_id: str | None, exc: SkewlessError) -> None:
    from feature_jobs.alerts import Alert, send_alert
    from feature_jobs.redaction import redact_text

    refused = isinstance(exc, PublishRefused)
    send_alert(
        settings,
        Alert(
            kind="sync.refused" if refused else "sync.failed",
            title=f"sync of {view} for {day} {'was refused' if refused else 'failed'}",
            message=redact_text(f"{exc}; online keeps serving the previous snapshot"),
            view=view,
            snapshot_date=day.isoformat(),
            run_id=run_id,
            details={"error": type(exc).__name__},
        ),
    )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"

"""The offline store: the only code that knows Delta paths, table layouts and versions.

Everything else (materialize, validation, sync, training, the CLI, the DAGs) calls this
API and never builds a Delta path or table name itself.

- Locations (:mod:`.layout`): ``view_table``, ``sync_log_table``, ``profiles_table``,
  ``quarantine_table``, ``quarantine_rows_table``, ``locks_folder``, ``table_exists``.
- A view's snapshots (:mod:`.snapshots`): ``write_snapshot`` / ``write_snapshots`` (one
  Delta commit each), ``read_offline``, ``read_snapshot``, ``last_snapshot_date``,
  ``last_commit``; (:mod:`.pinned_snapshot`) ``open_snapshot``, the snapshot of one date
  at a pinned version, as sync and check read it.
- Versions (:mod:`.versions`): ``current_version``, ``pin_version``, ``read_version``
  (refusing a vacuumed version).
- Bookkeeping: the sync log (:mod:`.sync_log`), batch profiles (:mod:`.profiles`), the
  quarantine (:mod:`.quarantine`), all appended through :mod:`.append`.
- Retention (:mod:`.retention`): ``guarded_vacuum``, which never deletes what a training
  manifest pins.
"""

from __future__ import annotations

from feature_jobs.offline.layout import (
    is_remote,
    locks_folder,
    profiles_table,
    quarantine_rows_table,
    quarantine_table,
    sync_log_table,
    table_exists,
    table_may_exist,
    view_table,
    views_folder,
)
from feature_jobs.offline.pinned_snapshot import (
    OfflineSnapshot,
    SnapshotStats,
    open_snapshot,
    require_publishable,
    require_unique_keys,
    snapshot_stats,
)
from feature_jobs.offline.profiles import ProfileRow, append_profiles, passed_profiles
from feature_jobs.offline.quarantine import (
    BatchKey,
    ReportedCheck,
    append_batch_rows,
    append_report,
    append_reports,
    report_location,
)
from feature_jobs.offline.retention import (
    DEFAULT_RETAIN_HOURS,
    Pin,
    VacuumPlan,
    guarded_vacuum,
    manifest_pins,
    plan_vacuum,
)
from feature_jobs.offline.snapshots import (
    BOOKKEEPING_COLUMNS,
    Commit,
    last_commit,
    last_snapshot_date,
    latest_snapshot_date,
    read_offline,
    read_snapshot,
    with_bookkeeping,
    write_snapshot,
    write_snapshots,
)
from feature_jobs.offline.sync_log import (
    SyncLogEntry,
    append_sync_log,
    has_entry,
    read_sync_log,
    sync_log_schema,
)
from feature_jobs.offline.versions import current_version, pin_version, read_version

__all__ = [
    "BOOKKEEPING_COLUMNS",
    "DEFAULT_RETAIN_HOURS",
    "BatchKey",
    "Commit",
    "OfflineSnapshot",
    "Pin",
    "ProfileRow",
    "ReportedCheck",
    "SnapshotStats",
    "SyncLogEntry",
    "VacuumPlan",
    "append_batch_rows",
    "append_profiles",
    "append_report",
    "append_reports",
    "append_sync_log",
    "current_version",
    "guarded_vacuum",
    "has_entry",
    "is_remote",
    "last_commit",
    "last_snapshot_date",
    "latest_snapshot_date",
    "locks_folder",
    "manifest_pins",
    "open_snapshot",
    "passed_profiles",
    "pin_version",
    "plan_vacuum",
    "profiles_table",
    "quarantine_rows_table",
    "quarantine_table",
    "read_offline",
    "read_snapshot",
    "read_sync_log",
    "read_version",
    "report_location",
    "require_publishable",
    "require_unique_keys",
    "snapshot_stats",
    "sync_log_schema",
    "sync_log_table",
    "table_exists",
    "table_may_exist",
    "view_table",
    "views_folder",
    "with_bookkeeping",
    "write_snapshot",
    "write_snapshots",
]

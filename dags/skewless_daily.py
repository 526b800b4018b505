"""# skewless daily materialization

Every day (UTC), for every feature view of the definitions: **materialize** the snapshot
of the day that just ended (computed from events before midnight, validated by Pandera
before the Delta commit) → **sync** it to Redis → **check** Redis against Delta.

* One task group per view; a view whose validation fails stops in its own group (nothing
  is published, online keeps the previous snapshot, an alert is sent) while the other
  views go on.
* The date is the run's data interval (`data_interval_start`), never the wall clock, so a
  backfill (`airflow backfill create --dag-id skewless_daily --from-date ... --to-date ...`)
  recomputes history; sync never replaces a newer live snapshot with an older one.
* Each task is a Spark job submitted through the `spark_default` connection and runs the
  same `python -m feature_jobs` command a person would.
* Freshness: `SKEWLESS_FRESHNESS_DEADLINE` (default 6h) after a day ended, if its run
  has not finished, the views are checked in Redis; an alert names the views whose live
  snapshot is older than that day's (and what they serve). A run whose day, or a newer
  one, is live already never alerts.

**Re-running a day: not with *Trigger* and a logical date.** A manual run with logical
date X covers the day *before* X, but takes X's slot: Airflow allows one run per logical
date, so the scheduled run of the day starting at X is then never created (nothing
materializes that day). To re-run day D, clear its run (the run → *Clear*), or backfill
it: `airflow backfill create --dag-id skewless_daily --from-date D --to-date D
--reprocess-behavior completed` (or *Trigger → Backfill* in the UI). For weeks of
history, use `skewless_backfill`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from airflow.sdk import DAG, CronDataIntervalTimetable, TaskGroup

from feature_jobs.airflow_support.callbacks import StepFailureNotifier, dag_run_failed
from feature_jobs.airflow_support.catalog_link import catalog_doc_md
from feature_jobs.airflow_support.daily import freshness_deadline, offline_asset, step_args
from feature_jobs.airflow_support.spark_jobs import feature_job
from feature_jobs.definitions import load_registry
from feature_jobs.settings import Settings

settings = Settings.from_env()
registry = load_registry(settings.features_module)

with DAG(
    dag_id="skewless_daily",
    # Airflow 3.3's DAG list shows no descriptions (only the Details tab does): the
    # display name carries a short one, after the id people type in commands.
    dag_display_name="skewless_daily: materialize, sync, check every view",
    description="Materialize, sync and check every feature view for the day that ended",
    doc_md=(__doc__ or "") + catalog_doc_md(os.environ),
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    on_failure_callback=dag_run_failed,
    deadline=freshness_deadline(os.environ),
    tags=["skewless"],
) as dag:
    for view in sorted(registry.views.values(), key=lambda v: v.name):
        with TaskGroup(group_id=view.name, tooltip=view.description or view.name):
            steps = [
                feature_job(
                    step,
                    step_args(step, view.name),
                    settings,
                    name=f"skewless-{step}-{view.name}",
                    on_failure_callback=StepFailureNotifier(view.name, step),
                    outlets=[offline_asset(settings, view.name)] if step == "materialize" else [],
                )
                for step in ("materialize", "sync", "check")
            ]
            steps[0] >> steps[1] >> steps[2]

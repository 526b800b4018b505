"""# skewless backfill

Recompute a date range of history for some feature views from the Airflow UI:
**Trigger** this DAG, pick the views, the start date and the end date (both inclusive).
Per view: **materialize** the whole range as one Spark job (computed in one plan, gated
per snapshot, committed together) → **sync** the range's newest day to Redis → **check**
Redis against Delta.

**When to use it, and when `airflow backfill create` on the daily DAG**

* This DAG: a new feature, or a fixed definition, over weeks or months of history. One
  Spark job per view for the whole range, instead of one run per day (each day's job pays
  a Spark start, a plan, a gate and a Delta commit).
* `airflow backfill create --dag-id skewless_daily --from-date D1 --to-date D2`: re-run
  the full daily pipeline (materialize, sync, check, every view) for a few specific
  days, e.g. after late data or an outage; one run per day, in order.

**How it behaves**

* The `check_request` task checks the request again before any Spark work: known views,
  dates as `YYYY-MM-DD`, end on or after start, end a day that is over (UTC), at most
  366 days per run (split longer histories). A bad request fails there with one line
  naming the field and the fix; no Spark job starts.
* One task group per view of the definitions; the groups of views not picked are
  skipped. A view whose range fails (bad data in one of its days: that day is
  quarantined and alerted) stops in its own group and is not synced; the others go on.
* `sync` publishes the end date's snapshot; it never replaces a newer live snapshot with
  an older one, so a backfill of old history leaves what is served alone (then `check`
  reports that a newer snapshot is live).
* Each task is a Spark job submitted through the `spark_default` connection and runs the
  same `python -m feature_jobs materialize --view V --start D1 --end D2` a person would.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from airflow.sdk import DAG, Param, TaskGroup, get_current_context, task

from feature_jobs.airflow_support.backfill import (
    MAX_BACKFILL_DAYS,
    STEPS,
    step_args,
    step_dates,
)
from feature_jobs.airflow_support.callbacks import StepFailureNotifier, dag_run_failed
from feature_jobs.airflow_support.catalog_link import catalog_doc_md
from feature_jobs.airflow_support.daily import offline_asset
from feature_jobs.airflow_support.spark_jobs import feature_job
from feature_jobs.definitions import load_registry
from feature_jobs.settings import Settings

settings = Settings.from_env()
registry = load_registry(settings.features_module)
views = sorted(registry.views.values(), key=lambda v: v.name)
view_names = [view.name for view in views]

with DAG(
    dag_id="skewless_backfill",
    dag_display_name="skewless_backfill: recompute a date range of views",
    description="Recompute a date range of chosen feature views: one Spark job per view",
    doc_md=(__doc__ or "") + catalog_doc_md(os.environ),
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    # Backfills are the largest jobs: one at a time, queued behind each other.
    max_active_runs=1,
    on_failure_callback=dag_run_failed,
    tags=["skewless"],
    params={
        "views": Param(
            view_names,
            type="array",
            # `examples` is the UI's pick list; `items.enum` makes API triggers obey it too.
            examples=view_names,
            items={"type": "string", "enum": view_names},
            minItems=1,
            uniqueItems=True,
            title="Feature views",
            description="The views to recompute (all by default).",
        ),
        # No default date, and null allowed: the form opens empty and check_request asks
        # for the missing date. (A required param without a default breaks the DAG's
        # failure callback under Airflow 3.3's dag.test(), which resolves the params
        # without the run's conf.)
        "start": Param(
            None,
            type=["string", "null"],
            format="date",
            title="Start date",
            description="First logical date of the range (its snapshot is at the next "
            "midnight UTC).",
        ),
        "end": Param(
            None,
            type=["string", "null"],
            format="date",
            title="End date",
            description="Last logical date, inclusive: a day that is over (UTC). At most "
            f"{MAX_BACKFILL_DAYS} days per run.",
        ),
    },
) as dag:

    @task.branch
    def check_request() -> list[str]:
        """Check the request before any Spark work; run the groups of the views picked."""
        from feature_jobs.airflow_support.backfill import check_backfill_request
        from feature_jobs.timeutil import utc_now

        params = get_current_context()["params"]
        # The definitions as the jobs will load them: they may have changed since parsing.
        request = check_backfill_request(params, load_registry(settings.features_module), utc_now())
        print(f"backfill request checked: {request}", flush=True)
        return [f"{name}.materialize" for name in request.views]

    checked = check_request()
    # Groups from the definitions at parse time (the form's pick list is the same list),
    # so every task is named by its view and has its own asset and alert; the branch
    # above skips the groups of the views not picked.
    for view in views:
        with TaskGroup(group_id=view.name, tooltip=view.description or view.name):
            steps = [
                feature_job(
                    step,
                    step_args(step, view.name),
                    settings,
                    name=f"skewless-backfill-{step}-{view.name}",
                    on_failure_callback=StepFailureNotifier(view.name, step, step_dates(step)),
                    outlets=[offline_asset(settings, view.name)] if step == "materialize" else [],
                )
                for step in STEPS
            ]
            checked >> steps[0] >> steps[1] >> steps[2]

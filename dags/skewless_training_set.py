"""# skewless training set

Build a point-in-time correct training set from the Airflow UI: **Trigger** this DAG,
fill the form, and read the row count, leakage report and manifest path in the `report`
task (log and return value). The output lands in `<data root>/training_sets/<output name>`
with its manifest next to it.

* **feature service**: the features a model consumes (from the definitions);
* **spine**: a Parquet/CSV/Delta path *under the data root* (e.g. `raw/labels`) with the
  entity keys and a `ts` column; `..`, URLs and paths elsewhere are refused;
* **mode**: `event-time` (the latest snapshot at each row's time) or `as-known` (exactly
  what the online store was serving at that time);
* **output name**: lowercase letters, digits and `_`; leave it empty for
  `<feature service>_<YYYYMMDD_HHMMSS>` of the run (UTC), a new folder every run (an
  existing output is never overwritten, so a fixed name works once).

**The form's "Logical Date" means nothing here.** Airflow 3.3's trigger form shows it for
every DAG that is not partitioned, and it cannot be hidden; this DAG has no schedule and
reads no date from it: what the training set holds comes from the spine's `ts` column
(each row gets the features as of its own time). Leave it as it is: it only names the
run. (The output name's default uses the time the run was triggered, not this date.)

The `check_request` task checks the request again before any Spark work: the form's
schema (which Airflow also applies to API and CLI triggers) cannot see where a path
leads (an absolute path elsewhere, a symlink out of the data root) or whether it exists.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import DAG, Param, get_current_context, task

from feature_jobs.airflow_support.catalog_link import catalog_doc_md
from feature_jobs.airflow_support.spark_jobs import feature_job
from feature_jobs.airflow_support.training_conf import OUTPUT_NAME, run_output_name
from feature_jobs.definitions import load_registry
from feature_jobs.settings import Settings
from feature_jobs.training.request import MODES

settings = Settings.from_env()
services = sorted(load_registry(settings.features_module).services)

with DAG(
    dag_id="skewless_training_set",
    dag_display_name="skewless_training_set: build a training set",
    description="Build a point-in-time correct training set for a feature service",
    doc_md=(__doc__ or "") + catalog_doc_md(os.environ),
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["skewless"],
    params={
        "feature_service": Param(
            services[0] if services else "",
            type="string",
            enum=services,
            title="Feature service",
            description="The features the model consumes.",
        ),
        "spine": Param(
            "raw/labels",
            type="string",
            pattern=r"^(?!.*\.\.)[A-Za-z0-9_./=-]+$",
            title="Spine path",
            description="Path under the data root of the labelled rows (keys + ts).",
        ),
        "mode": Param(
            "event-time",
            type="string",
            enum=list(MODES),
            title="Mode",
            description="event-time: latest snapshot at ts; as-known: what online served.",
        ),
        # Empty by default: a fixed default would name the same folder on every run,
        # and the second run would be refused (an output is never overwritten).
        "output_name": Param(
            None,
            type=["string", "null"],
            pattern=OUTPUT_NAME.pattern,
            title="Output name",
            description="Folder under training_sets/: a-z, 0-9 and _, at most 64. Empty: "
            "<feature service>_<YYYYMMDD_HHMMSS> of the run (UTC), a new one each run.",
        ),
    },
) as dag:

    @task
    def check_request() -> list[str]:
        """Check the request against the file system and definitions; no Spark yet."""
        from feature_jobs.airflow_support.training_conf import check_training_conf

        context = get_current_context()
        params = context["params"]
        name = run_output_name(params, context["dag_run"].run_after)
        conf = check_training_conf(
            {**params, "output_name": name}, settings, load_registry(settings.features_module)
        )
        print(f"training set request checked: {conf}", flush=True)
        return conf.cli_args()

    @task
    def report() -> dict[str, Any]:
        """Row count, leakage report and manifest path, in the log and as return value."""
        from feature_jobs.airflow_support.training_conf import output_folder
        from feature_jobs.airflow_support.training_report import read_report, summary_lines

        context = get_current_context()
        name = str(run_output_name(context["params"], context["dag_run"].run_after))
        summary = read_report(output_folder(settings, name))
        print("\n".join(summary_lines(summary)), flush=True)
        return summary

    checked = check_request()
    build = feature_job("build_training_set", checked, settings, name="skewless-training-set")
    build >> report()

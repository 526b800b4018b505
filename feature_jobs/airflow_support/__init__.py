"""What the thin DAG files in ``dags/`` import: no business logic, only wiring.

* :mod:`spark_jobs` builds the ``SparkSubmitOperator`` that runs a ``feature_jobs``
  subcommand, and the retry policy that does not retry deterministic failures;
* :mod:`daily` holds the daily DAG's assets, step arguments and freshness deadline;
* :mod:`backfill` checks a backfill request and gives its steps' arguments (no Spark);
* :mod:`callbacks` turns failed steps, failed runs and missed deadlines into alerts;
* :mod:`training_conf` checks a training-set request (no Airflow, no Spark);
* :mod:`training_report` reads what a finished training-set job wrote.
"""

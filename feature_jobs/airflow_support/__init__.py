"""What the thin DAG files in ``dags/`` import: no business logic, only wiring.

* :mod:`training_conf` checks a training-set request (no Airflow, no Spark: the job and
  the DAG share it);
* :mod:`spark_jobs` builds the ``SparkSubmitOperator`` that runs a ``feature_jobs``
  subcommand, and the retry policy that does not retry deterministic failures;
* :mod:`callbacks` turns task failures and missed freshness deadlines into alerts.
"""

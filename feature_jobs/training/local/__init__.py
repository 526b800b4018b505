"""The local training engine: DuckDB over the Parquet files of pinned Delta versions.

On one machine a training set is a few joins over files that fit in memory; a cold Spark
JVM costs more than the work. This engine builds the very same rows as the Spark engine
(:mod:`feature_jobs.training.job`) from the same pinned versions (listed by delta-rs,
:mod:`feature_jobs.offline.delta_rs`), with the join steps and the serving rule rendered as
SQL from the same definitions, and the same checksum (:mod:`..arrow_hash`). Differential
tests hold the two engines equal row for row. It never imports PySpark.
"""

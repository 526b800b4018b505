"""Spark session construction (the only place Spark and Delta are configured)."""

#: Level of Spark's own logs once a session runs (log4j names; default ERROR). The CLI sets
#: OFF unless --verbose: it prints every failure's cause itself, in one line.
SPARK_LOG_LEVEL_ENV = "SKEWLESS_SPARK_LOG_LEVEL"

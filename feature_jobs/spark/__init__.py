"""Spark session construction (the only place Spark and Delta are configured)."""

#: Level of Spark's own logs once a session runs (log4j names; default ERROR). The CLI sets
#: OFF unless --verbose: it prints every failure's cause itself, in one line.
SPARK_LOG_LEVEL_ENV = "SKEWLESS_SPARK_LOG_LEVEL"

#: Where the driver JVM's own console output goes when Spark's logs are OFF (the CLI
#: without --verbose): the JDK's and Spark's start-up lines stay off the terminal, and a
#: JVM that dies still leaves its last words somewhere. Relative to the data root.
JVM_LOG = "logs/spark-jvm.log"

"""skewless engine: one PySpark code path from feature definitions to Delta and Redis.

Importing this package is cheap and never imports pyspark; Spark is only started by the
jobs that need it.
"""

__version__ = "0.1.0"

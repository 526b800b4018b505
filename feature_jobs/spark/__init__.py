"""Spark session construction (the only place Spark and Delta are configured)."""

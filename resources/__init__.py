"""Dagster resources: pipeline settings, the feature store and its DuckDB tables."""

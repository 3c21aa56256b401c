"""The feature store's tables, without Dagster: one table per feature asset, the track
registry, the crops, the time series and the label probabilities, in DuckDB (the embedded
default) or PostgreSQL. The IO manager, the sensor and the command line share it."""

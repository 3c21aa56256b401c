"""The Dagster code location: track-partitioned assets over the `mir` library."""

"""Dagster resources: the pipeline settings, the FeatureStore IO manager and the GPU. The
feature store's tables they open live in :mod:`store`, which knows no Dagster."""

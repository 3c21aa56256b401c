"""The code location: every asset, resource, job and sensor, in one place.

Deployments: `local` (the default) keeps Dagster's own storage in SQLite under
DAGSTER_HOME and the features in a DuckDB file, both set by config/master_pipeline.yaml.
A Postgres-backed instance and another run launcher are chosen in DAGSTER_HOME's
dagster.yaml, and Celery workers by MIR_EXECUTOR, without touching this file (see
README, "Scaling out").
"""

from __future__ import annotations

import os

from dagster import Definitions, load_assets_from_modules

from mir_assets import (
    aesthetics,
    captions,
    chords,
    classification,
    crops,
    export,
    harmonic,
    loudness,
    metadata,
    quality,
    rhythm,
    source,
    spectral,
    statistics,
    stems,
    timbral,
    transcription,
)
from mir_assets.checks import range_checks
from mir_assets.executors import executor_from_env
from mir_assets.jobs import track_job
from resources.feature_store import FeatureStore
from resources.gpu import GpuResource
from resources.settings import PipelineSettings
from sensors.inbox import inbox_sensor

ASSET_MODULES = [
    source,
    quality,
    metadata,
    stems,
    rhythm,
    loudness,
    spectral,
    harmonic,
    chords,
    timbral,
    classification,
    transcription,
    aesthetics,
    captions,
    crops,
    export,
    statistics,
]


def make_resources(config_path: str = "", *, keep_models_between_runs: bool = False) -> dict:
    settings = PipelineSettings(config_path=config_path)
    return {
        "settings": settings,
        "feature_store": FeatureStore(settings=settings),
        "gpu": GpuResource(settings=settings, keep_models_between_runs=keep_models_between_runs),
    }


RESOURCES_BY_DEPLOYMENT = {
    "local": make_resources(os.environ.get("MIR_CONFIG", "")),
}

all_assets = load_assets_from_modules(ASSET_MODULES)
all_checks = range_checks(all_assets)

defs = Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[track_job],
    sensors=[inbox_sensor],
    resources=RESOURCES_BY_DEPLOYMENT[os.environ.get("MIR_DEPLOYMENT", "local")],
    # one process per run: models, decoded audio and intermediates are shared by the
    # steps of a run; parallelism comes from concurrent runs. MIR_EXECUTOR=celery sends
    # the steps to Celery workers instead (mir_assets/executors.py, README "Scaling out")
    executor=executor_from_env(),
)

"""The code location: every asset, resource, job and sensor, in one place.

Deployments: `local` (the default) keeps Dagster's own storage in SQLite under
DAGSTER_HOME and the features in a DuckDB file, both set by config/master_pipeline.yaml.
A Postgres-backed instance and another run launcher are chosen in DAGSTER_HOME's
dagster.yaml, and Celery workers by MIR_EXECUTOR, without touching this file (see
README, "Scaling out").
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from dagster import (
    AssetKey,
    AssetsDefinition,
    Definitions,
    In,
    Nothing,
    load_assets_from_modules,
)

from mir.config import PROJECT_ROOT, MasterConfig, config_root
from mir.errors import ConfigError
from mir_assets import (
    DEFINITION_CONFIG,
    aesthetics,
    captions,
    chords,
    classification,
    crops,
    export,
    harmonic,
    latents,
    loudness,
    metadata,
    quality,
    rhythm,
    source,
    spectral,
    statistics,
    stems,
    timbral,
    timeseries,
    transcription,
)
from mir_assets.checks import range_checks
from mir_assets.executors import executor_from_env
from mir_assets.jobs import track_job
from mir_assets.runtime import consumers_of
from resources.feature_store import FeatureStore
from resources.gpu import GpuResource
from resources.settings import PipelineSettings
from sensors.inbox import build_inbox_sensor

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
    timeseries,
    latents,
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

#: what reads the values of other track assets, by consumer (feature_asset_args' flags)
CONSUMER_ASSETS = {
    "crops": ("training_crops", "sat_dataset"),
    "statistics": ("feature_statistics",),
    "captions": ("captions",),
}


def load_feature_modules(cfg: MasterConfig) -> list[ModuleType]:
    """The modules named in `feature_modules:` of the config: a module name
    (`my_features.zero_crossings`, importable from the Python path) or a `.py` file (relative
    paths as the config's others: :func:`mir.config.config_root`)."""
    modules = []
    root = config_root(cfg.source) if cfg.source else PROJECT_ROOT
    for entry in cfg.feature_modules:
        try:
            if entry.endswith(".py"):
                path = Path(entry).expanduser()
                path = path if path.is_absolute() else root / path
                spec = importlib.util.spec_from_file_location(f"mir_features.{path.stem}", path)
                if spec is None or not path.is_file():
                    raise FileNotFoundError(f"no such file: {path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module
                spec.loader.exec_module(module)
            else:
                module = importlib.import_module(entry)
        except Exception as exc:
            raise ConfigError(
                f"feature_modules: cannot load {entry!r} ({type(exc).__name__}: {exc})"
            ) from exc
        modules.append(module)
    return modules


def with_deps(assets_def: AssetsDefinition, keys: list[AssetKey]) -> AssetsDefinition:
    """`assets_def` with `keys` added to its (non-argument) deps.

    `map_asset_specs` with `AssetSpec.merge_attributes(deps=...)` is Dagster's way, but in
    1.13 it turns an asset's argument inputs into Nothing inputs when it adds deps (its
    `replace_specs_on_asset` rebuilds every dep's input, not only the added ones), so it
    cannot add deps to an asset that takes inputs; this is that function for added deps
    only (README, "Library internals")."""
    from dagster._core.definitions.assets.definition.assets_definition import (
        stringify_asset_key_to_input_name,
    )

    specs = [
        spec.merge_attributes(deps=keys) if spec.key == assets_def.key else spec
        for spec in assets_def.specs
    ]
    added = {stringify_asset_key_to_input_name(k): k for k in keys}
    ins = {
        **assets_def.node_def.input_dict,
        **{name: In(dagster_type=Nothing) for name in added},
    }
    return assets_def.__class__.dagster_internal_init(
        **{
            **assets_def.get_attributes_dict(),
            "node_def": assets_def.op.with_replaced_properties(name=assets_def.op.name, ins=ins),
            # the new inputs map to their assets: the steps of a run wait for them
            "keys_by_input_name": {**assets_def.node_keys_by_input_name, **added},
            "specs": specs,
        }
    )


def wire_consumers(assets: list) -> list:
    """Each consumer (:data:`CONSUMER_ASSETS`) depends on every track asset that declared
    it (feature_asset_args' `crops`, `statistics`, `captions`), so a feature added later
    makes them stale in the UI and a backfill brings its values to them."""
    sources: dict[str, list[AssetKey]] = {name: [] for name in CONSUMER_ASSETS}
    for asset_def in assets:
        if asset_def.partitions_def is not None:
            for name in consumers_of(asset_def) & set(sources):
                sources[name].append(asset_def.key)
    reader_of = {a: c for c, names in CONSUMER_ASSETS.items() for a in names}
    out = []
    for asset_def in assets:
        consumer = reader_of.get(asset_def.key.path[-1])
        if consumer is not None:
            known = {dep.asset_key for spec in asset_def.specs for dep in spec.deps}
            extra = [k for k in sources[consumer] if k not in known and k != asset_def.key]
            if extra:
                asset_def = with_deps(asset_def, extra)
        out.append(asset_def)
    return out


def check_switches(cfg: MasterConfig, assets: list) -> None:
    """A switch in `features:` must name an asset (an unknown name is a typo, or a feature
    module that is not loaded); an asset without a switch is on."""
    names = {key.path[-1] for a in assets for key in a.keys}
    unknown = sorted(set(cfg.features.switches()) - names)
    if unknown:
        where = f"{cfg.source}: " if cfg.source else ""
        raise ConfigError(
            f"{where}features: no asset named {', '.join(map(repr, unknown))}; "
            f"the assets are {', '.join(sorted(names))}"
        )


FEATURE_MODULES = load_feature_modules(DEFINITION_CONFIG)
all_assets = wire_consumers(load_assets_from_modules([*ASSET_MODULES, *FEATURE_MODULES]))
check_switches(DEFINITION_CONFIG, all_assets)
all_checks = [*range_checks(all_assets), *latents.ASSET_CHECKS]
inbox_sensor = build_inbox_sensor(all_assets)

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

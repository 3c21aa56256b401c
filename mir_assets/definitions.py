"""The code location: every asset, check, job and sensor, built from one configuration.

Nothing is read when this module is imported. Dagster calls :func:`defs`, which reads the
configuration (`$MIR_CONFIG`, else config/master_pipeline.yaml: once per process,
:func:`mir.config.load_config`) and builds the location from it: one asset per family
(:mod:`mir.families`, and the feature modules the configuration names), generated
(:func:`mir_assets.features.feature_asset`) or this package's function of the same name,
each with its arguments from its declaration; the readers of other families' values
depending on the families that name them; a range check per asset; the job; the inbox
sensor; the resources and the executor.

A Postgres-backed Dagster instance and another run launcher are chosen in DAGSTER_HOME's
dagster.yaml, the feature store's backend by `feature_store:` and Celery workers by
MIR_EXECUTOR, without touching this file (docs, "Scaling out").
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from dagster import (
    AssetKey,
    AssetsDefinition,
    Definitions,
    In,
    Nothing,
    SensorDefinition,
    asset,
    definitions,
)

from mir.config import MasterConfig, load_config
from mir.errors import ConfigError
from mir.family import Family
from mir.feature_modules import families_of
from mir_assets import (
    aesthetics,
    captions,
    classification,
    crops,
    export,
    latents,
    metadata,
    quality,
    source,
    statistics,
    stems,
    structure,
    timeseries,
    transcription,
)
from mir_assets.checks import range_checks
from mir_assets.executors import executor_from_env
from mir_assets.features import feature_asset
from mir_assets.jobs import track_job
from mir_assets.runtime import family_asset_args
from resources.feature_store import FeatureStore
from resources.gpu import GpuResource
from resources.settings import PipelineSettings
from sensors.inbox import build_inbox_sensor

#: the families whose asset is a function of this package (they need the run: a model
#: loaded once, the feature store, other tracks); every other family's is generated
ASSET_FUNCTIONS = {
    f.__name__: f
    for f in (
        source.source_audio,
        quality.audio_quality,
        metadata.track_metadata,
        stems.stems,
        classification.classification,
        aesthetics.aesthetics,
        transcription.drum_transcription,
        transcription.pitch_transcription,
        captions.captions,
        structure.structure,
        crops.training_crops,
        timeseries.track_timeseries,
        timeseries.latent_windows,
        latents.latents,
        export.sat_dataset,
        export.sat_dataset_card,
        statistics.feature_statistics,
    )
}

#: what reads the values of other track assets, by consumer (`Family.consumers`)
CONSUMER_ASSETS = {
    "crops": ("training_crops", "sat_dataset"),
    "statistics": ("feature_statistics",),
    "captions": ("captions",),
}


def make_resources(config_path: str = "", *, keep_models_between_runs: bool = False) -> dict:
    settings = PipelineSettings(config_path=config_path)
    return {
        "settings": settings,
        "feature_store": FeatureStore(settings=settings),
        "gpu": GpuResource(settings=settings, keep_models_between_runs=keep_models_between_runs),
    }


def family_asset(
    family: Family, cfg: MasterConfig, *, code_version: str | None = None
) -> AssetsDefinition:
    """The asset of one family: generated from its computation, or this package's function
    of its name, decorated with the arguments its declaration gives (`code_version`: in
    place of the family's own, for a reader: :func:`reader_versions`)."""
    if family.compute is not None:
        return feature_asset(family, cfg)
    function = ASSET_FUNCTIONS.get(family.name)
    if function is None:
        raise ConfigError(
            f"family {family.name!r} has neither a computation (`compute=`) nor an asset "
            "function in mir_assets"
        )
    extra = {"code_version": code_version} if code_version else {}
    return asset(**family_asset_args(family, cfg, deps=list(family.reads), **extra))(function)


def consumed_by(families: tuple[Family, ...]) -> dict[str, list[Family]]:
    """`{reader asset: the track families whose values it reads}` (:data:`CONSUMER_ASSETS`,
    `Family.consumers`)."""
    out: dict[str, list[Family]] = {}
    for consumer, readers in CONSUMER_ASSETS.items():
        sources = [f for f in families if f.partitioned and consumer in f.consumers]
        for reader in readers:
            out.setdefault(reader, []).extend(s for s in sources if s.name != reader)
    return out


def reader_versions(families: tuple[Family, ...]) -> dict[str, str]:
    """The code version of each reader of other families' values: its own, then a digest
    of the versions of the families it reads (`2+4f1c0a9e`). What a reader writes is made
    of their values, so a family whose version moves marks its readers stale in the UI
    ("code version changed") as well as itself, before it runs again, and `mir run`
    recomputes them after it: exactly the family and its consumers."""
    import hashlib

    own = {f.name: f.version for f in families}
    out = {}
    for reader, sources in consumed_by(families).items():
        if reader not in own:
            continue
        text = ",".join(sorted(f"{s.name}={s.version}" for s in sources))
        out[reader] = f"{own[reader]}+{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return out


def with_deps(assets_def: AssetsDefinition, keys: list[AssetKey]) -> AssetsDefinition:
    """`assets_def` with `keys` added to its (non-argument) deps.

    `map_asset_specs` with `AssetSpec.merge_attributes(deps=...)` is Dagster's way, but in
    1.13 it turns an asset's argument inputs into Nothing inputs when it adds deps (its
    `replace_specs_on_asset` rebuilds every dep's input, not only the added ones), so it
    cannot add deps to an asset that takes inputs; this is that function for added deps
    only (docs, "Library internals")."""
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


def wire_consumers(assets: list[AssetsDefinition], families: tuple[Family, ...]) -> list:
    """Each reader of other families' values (:data:`CONSUMER_ASSETS`) depends on every
    track family that names it among its consumers, so a feature added later makes them
    stale in the UI and a backfill brings its values to them."""
    sources = consumed_by(families)
    out = []
    for asset_def in assets:
        reads = sources.get(asset_def.key.path[-1])
        if reads:
            known = {dep.asset_key for spec in asset_def.specs for dep in spec.deps}
            extra = [AssetKey(f.name) for f in reads if AssetKey(f.name) not in known]
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


@dataclass(frozen=True)
class Location:
    """The code location one configuration makes."""

    config: MasterConfig
    families: tuple[Family, ...]
    assets: list[AssetsDefinition]
    checks: list
    sensor: SensorDefinition
    definitions: Definitions


def build_location(cfg: MasterConfig) -> Location:
    """Every definition of the code location, from one configuration."""
    families = families_of(cfg)
    versions = reader_versions(families)
    assets = wire_consumers(
        [family_asset(f, cfg, code_version=versions.get(f.name)) for f in families], families
    )
    check_switches(cfg, assets)
    checks = [*range_checks(assets), *latents.ASSET_CHECKS]
    sensor = build_inbox_sensor(assets, cfg)
    resources = make_resources(str(cfg.source) if cfg.source else "")
    return Location(
        config=cfg,
        families=families,
        assets=assets,
        checks=checks,
        sensor=sensor,
        definitions=Definitions(
            assets=assets,
            asset_checks=checks,
            jobs=[track_job],
            sensors=[sensor],
            resources=resources,
            # one process per run: models, decoded audio and intermediates are shared by
            # the steps of a run; parallelism comes from concurrent runs. MIR_EXECUTOR=
            # celery sends the steps to Celery workers instead (mir_assets/executors.py)
            executor=executor_from_env(),
        ),
    )


@functools.cache
def _location(config_path: str) -> Location:
    return build_location(load_config(config_path or None))


def location() -> Location:
    """The location of this process's configuration (`$MIR_CONFIG`, else the default),
    built once."""
    return _location(os.environ.get("MIR_CONFIG", ""))


@definitions
def defs() -> Definitions:
    """What Dagster loads (`dagster dev -w workspace.yaml`, `dagster asset materialize -m
    mir_assets.definitions`)."""
    return location().definitions


def __getattr__(name: str):
    # the built definitions under the names the tests, benchmarks and `mir run` use
    if name == "all_assets":
        return location().assets
    if name == "all_checks":
        return location().checks
    if name == "inbox_sensor":
        return location().sensor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Which track assets a run should cover: the enabled ones whose models are in place."""

from dataclasses import dataclass

from dagster import AssetKey

from mir.config import MasterConfig
from mir.errors import MirError, ModelNotFound
from mir.feature_modules import families_of


def missing_requirements(cfg: MasterConfig, families) -> dict[str, Exception]:
    """`{family: error}` for the families whose model (:class:`~mir.errors.ModelNotFound`)
    or program (:class:`~mir.quality.FingerprintError`) is missing, as their declarations'
    checks say."""
    out: dict[str, Exception] = {}
    for family in families:
        try:
            family.check_requirements(cfg)
        except MirError as exc:
            out[family.name] = exc
    return out


def missing_model(cfg: MasterConfig, name: str) -> MirError | None:
    """The error of family `name`'s missing model (or program), or None when it can run."""
    family = {f.name: f for f in families_of(cfg)}[name]
    return missing_requirements(cfg, [family]).get(name)


@dataclass(frozen=True)
class LeftOut:
    """Why a run leaves an enabled track asset out.

    Attributes
    ----------
    outcome : str
        As `mir run` reports it: "no model", "skipped" (its program is missing) or
        "no stems" (a per-stem feature with `stems` switched off).
    error : Exception or None
        What is missing (None when `stems` is switched off).
    for_stems : bool
        Left out only because no new stems will be made: a track whose stem files are
        already in its folder can still run it.
    """

    outcome: str
    error: Exception | None
    for_stems: bool = False


def left_out_track_assets(cfg: MasterConfig, assets) -> dict[str, LeftOut]:
    """`{asset: why}` for the enabled, track-partitioned assets a run leaves out: those
    whose model or program is missing (their declarations' checks), and, without a
    separation model (or with `stems` off), `stems` and the per-stem features (a run of
    them could only fail)."""
    families = {f.name: f for f in families_of(cfg)}
    names = {a.key.path[-1] for a in assets if a.partitions_def is not None}
    enabled = [families[n] for n in names if n in families and cfg.features.enabled(n)]
    missing = missing_requirements(cfg, enabled)
    stems_off = not cfg.features.enabled("stems")
    no_separation = missing.get("stems")  # None when `stems` is off: it is not enabled
    out: dict[str, LeftOut] = {}
    for family in enabled:
        name = family.name
        if name in missing and not isinstance(missing[name], ModelNotFound):
            out[name] = LeftOut("skipped", missing[name])  # a program to install
        elif name in missing and name != "stems":
            out[name] = LeftOut("no model", missing[name])
        elif (name == "stems" or family.needs_stems) and (stems_off or no_separation is not None):
            outcome = "no stems" if no_separation is None else "no model"
            out[name] = LeftOut(outcome, no_separation, for_stems=family.needs_stems)
    # an asset given the values of an asset that is switched off or left out cannot run
    # (its input would be missing): it is left out too, saying which
    by_name = {a.key.path[-1]: a for a in assets}
    grew = True
    while grew:
        grew = False
        for family in enabled:
            if family.name in out or family.name not in by_name:
                continue
            for upstream in argument_inputs(by_name[family.name]):
                why = out.get(upstream)
                if why is not None and why.for_stems:
                    continue  # it may still run for tracks whose stems are on disk
                if why is not None or not cfg.features.enabled(upstream):
                    state = "switched off" if why is None else f"left out ({why.outcome})"
                    error = MirError(f"{family.name} needs the values of {upstream}, {state}")
                    out[family.name] = LeftOut("skipped", error)
                    grew = True
                    break
    return out


def argument_inputs(asset_def) -> list[str]:
    """The assets whose values `asset_def` is given as arguments (not its other deps)."""
    inputs = asset_def.node_def.input_dict
    return [
        key.path[-1]
        for name, key in asset_def.node_keys_by_input_name.items()
        if name in inputs and not inputs[name].dagster_type.is_nothing
    ]


def runnable_track_assets(cfg: MasterConfig, assets) -> list[AssetKey]:
    """Enabled, track-partitioned assets that :func:`left_out_track_assets` keeps in: the
    selection of the sensor's runs, and of `mir run`."""
    left_out = left_out_track_assets(cfg, assets)
    return [
        a.key
        for a in assets
        if a.partitions_def is not None
        and cfg.features.enabled(a.key.path[-1])
        and a.key.path[-1] not in left_out
    ]

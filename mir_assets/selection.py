"""Which track assets a run should cover: the enabled ones whose models are in place."""

from dataclasses import dataclass

from dagster import AssetKey

from mir.config import MasterConfig
from mir.errors import ModelNotFound
from mir.separation import check_model


def _missing(check, *args) -> ModelNotFound | None:
    try:
        check(*args)
    except ModelNotFound as exc:
        return exc
    return None


def missing_separation_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The separation model error, or None when `stems` can run (or is switched off)."""
    return _missing(check_model, cfg.separation) if cfg.features.enabled("stems") else None


def missing_classification_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The classification model error, or None when its models are in place."""
    from mir.classification import check_models

    return _missing(check_models, cfg.classification.model_dir)


def missing_aesthetics_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The aesthetics checkpoint error, or None when the checkpoint is in place."""
    from mir.aesthetics import check_checkpoint

    return _missing(check_checkpoint, cfg.aesthetics.model_dir / cfg.aesthetics.checkpoint)


def missing_transcription_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The ADTOF weights error, or None when `drum_transcription` can run."""
    from mir.transcription import check_adtof_model

    return _missing(check_adtof_model, cfg.transcription.model_dir)


def missing_caption_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The captioning or revision model error, or None (the template backend needs none)."""
    from mir.captions.flamingo import check_caption_models

    return _missing(check_caption_models, cfg.music_flamingo)


def missing_latents_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The autoencoder error of the `latents.preset`, or None when its files are in place."""
    from mir.latents.autoencoders import check_autoencoder
    from mir.latents.presets import preset

    p = preset(cfg.latents.preset)
    folder = {"same-l": cfg.latents.same_l_dir, "same-s": cfg.latents.same_s_dir}.get(
        p.encoder, cfg.latents.sao_vae_dir
    )
    return _missing(check_autoencoder, p.encoder, folder)


def missing_fpcalc(cfg: MasterConfig) -> Exception | None:
    """The error when `fpcalc` (audio_quality's fingerprints) is not on PATH, else None."""
    from mir.quality import FingerprintError, check_fpcalc

    try:
        check_fpcalc()
    except FingerprintError as exc:
        return exc
    return None


#: asset -> the check of a program it needs: a run leaves the asset out without it, and
#: says what to install (the assets downstream run without its values)
TOOL_CHECKS = {"audio_quality": missing_fpcalc}


def _failing(checks: dict, cfg: MasterConfig, names) -> dict[str, Exception]:
    """`{asset: error}` for the assets among `names` whose check in `checks` fails."""
    errors = {name: checks[name](cfg) for name in names if name in checks}
    return {name: error for name, error in errors.items() if error is not None}


def missing_tools(cfg: MasterConfig, names) -> dict[str, Exception]:
    """`{asset: error}` for the assets among `names` whose program is missing."""
    return _failing(TOOL_CHECKS, cfg, names)


#: asset -> the check of the model it needs (stems: see `missing_separation_model`)
MODEL_CHECKS = {
    "classification": missing_classification_model,
    "drum_transcription": missing_transcription_model,
    "aesthetics": missing_aesthetics_model,
    "captions": missing_caption_model,
    "latents": missing_latents_model,
}


def missing_models(cfg: MasterConfig, names) -> dict[str, ModelNotFound]:
    """`{asset: error}` for the assets among `names` whose model is missing."""
    return _failing(MODEL_CHECKS, cfg, names)


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
    whose model or program is missing, and, without a separation model (or with `stems`
    off), `stems` and the per-stem features (a run of them could only fail)."""
    from mir_assets.runtime import NEEDS_STEMS_TAG

    stems_off = not cfg.features.enabled("stems")
    no_separation = missing_separation_model(cfg)
    no_model = missing_models(cfg, MODEL_CHECKS)
    no_tool = missing_tools(cfg, TOOL_CHECKS)
    out: dict[str, LeftOut] = {}
    for a in assets:
        name = a.key.path[-1]
        if a.partitions_def is None or not cfg.features.enabled(name):
            continue
        needs_stems = bool((a.tags_by_key.get(a.key) or {}).get(NEEDS_STEMS_TAG))
        if name in no_tool:
            out[name] = LeftOut("skipped", no_tool[name])
        elif name in no_model:
            out[name] = LeftOut("no model", no_model[name])
        elif (name == "stems" or needs_stems) and (stems_off or no_separation is not None):
            outcome = "no stems" if no_separation is None else "no model"
            out[name] = LeftOut(outcome, no_separation, for_stems=needs_stems)
    return out


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

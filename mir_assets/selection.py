"""Which track assets a run should cover: the enabled ones whose models are in place."""

from dagster import AssetKey

from mir.config import MasterConfig
from mir.errors import ModelNotFound
from mir.separation import check_model


def missing_separation_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The separation model error, or None when `stems` can run."""
    if not cfg.features.stems:
        return None
    try:
        check_model(cfg.separation)
    except ModelNotFound as exc:
        return exc
    return None


def missing_classification_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The classification model error, or None when its models are in place."""
    from mir.classification import check_models

    try:
        check_models(cfg.classification.model_dir)
    except ModelNotFound as exc:
        return exc
    return None


def missing_aesthetics_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The aesthetics checkpoint error, or None when the checkpoint is in place."""
    from mir.aesthetics import check_checkpoint

    try:
        check_checkpoint(cfg.aesthetics.model_dir / cfg.aesthetics.checkpoint)
    except ModelNotFound as exc:
        return exc
    return None


def missing_transcription_model(cfg: MasterConfig) -> ModelNotFound | None:
    """The ADTOF weights error, or None when `drum_transcription` can run."""
    from mir.transcription import check_adtof_model

    try:
        check_adtof_model(cfg.transcription.model_dir)
    except ModelNotFound as exc:
        return exc
    return None


def runnable_track_assets(cfg: MasterConfig, assets) -> list[AssetKey]:
    """Enabled, track-partitioned assets; without a separation model (or with `stems` off),
    `stems` and the per-stem features are left out (a run of them could only fail)."""
    from mir_assets.runtime import NEEDS_STEMS_TAG

    # without a separation model (or with `stems` switched off) a new track has no stems
    no_stems = not cfg.features.stems or missing_separation_model(cfg) is not None
    keys = []
    for a in assets:
        name = a.key.path[-1]
        if a.partitions_def is None or not getattr(cfg.features, name, True):
            continue
        needs_stems = bool((a.tags_by_key.get(a.key) or {}).get(NEEDS_STEMS_TAG))
        if no_stems and (name == "stems" or needs_stems):
            continue
        if name == "classification" and missing_classification_model(cfg) is not None:
            continue
        if name == "drum_transcription" and missing_transcription_model(cfg) is not None:
            continue
        if name == "aesthetics" and missing_aesthetics_model(cfg) is not None:
            continue
        keys.append(a.key)
    return keys

"""classification: genre, mood/theme and instrument labels, and the VGGish heads."""

import numpy as np
from dagster import AssetExecutionContext, MetadataValue

from mir.classification import SR, classify, load_classifier
from mir.errors import ModelNotFound
from mir.stems import find_stems
from mir_assets.runtime import decoded, for_each_track, full_mix_path, model_failure
from resources.gpu import GpuResource
from resources.settings import PipelineSettings
from store.labels import LABELS_TABLE


def vocals_present(stem: np.ndarray, *, crest_db: float, rms_dbfs: float, peak_dbfs: float) -> bool:
    """The original's gate: a vocals stem counts unless it is sparse, quiet and low all at once."""
    peak = float(np.abs(stem).max()) if stem.size else 0.0
    rms = float(np.sqrt(np.mean(np.square(stem, dtype=np.float64)))) if stem.size else 0.0
    if peak <= 0 or rms <= 0:
        return False
    crest = 20 * np.log10(peak / rms)
    return not (
        crest > crest_db and 20 * np.log10(rms) < rms_dbfs and 20 * np.log10(peak) < peak_dbfs
    )


def classification(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    gpu: GpuResource,
    source_audio: dict[str, dict],
) -> dict[str, dict]:
    """`essentia_genre` (Discogs 400), `essentia_mood` (56), `essentia_instrument` (40): top 10
    labels >= 0.1 as {label: probability}; every one of the 496 probabilities in the `labels`
    table; and `danceability`, `atonality`, `voice_probability`, `instrumental_probability`,
    `female_probability`, `male_probability` (the last two on a present vocals stem)."""
    cfg = settings.config.classification
    try:
        classifier = gpu.model(
            ("essentia", str(cfg.model_dir)), lambda: load_classifier(cfg.model_dir)
        )
    except ModelNotFound as exc:
        raise model_failure(exc) from None

    def compute(track_id: str) -> dict:
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        vocals = None
        stems = find_stems(settings.track_dir(track_id), ["vocals"])
        if "vocals" in stems:
            stem = decoded(stems["vocals"])
            if vocals_present(
                stem.samples,
                crest_db=cfg.vocal_crest_db,
                rms_dbfs=cfg.vocal_rms_dbfs,
                peak_dbfs=cfg.vocal_peak_dbfs,
            ):
                vocals = stem.mono(SR)
        values, everything = classify(classifier, audio.mono(SR), vocals16=vocals)
        settings.tables.replace_labels(track_id, everything)
        return values

    result = for_each_track(context, settings, compute)
    context.add_output_metadata({"labels_table": MetadataValue.text(LABELS_TABLE)})
    return result

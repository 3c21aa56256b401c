"""Timbral assets: the eight Audio Commons ratings."""

import numpy as np
from dagster import AssetExecutionContext, asset

from mir.timbral import TIMBRAL_KEYS, timbral_features
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings


@asset(
    name="timbral_features", **feature_asset_args("timbral", list(TIMBRAL_KEYS), kinds={"duckdb"})
)
def timbral_features_asset(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """brightness, roughness, hardness, depth, booming, sharpness, warmth (0-100) and
    reverberation (%), from `timbral_models` on at most `timbral.max_seconds` of the
    track's middle (the models run at about realtime)."""
    max_s = settings.config.timbral.max_seconds

    def compute(track_id: str) -> dict:
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        x = audio.samples
        n = int(max_s * audio.sr)
        if x.shape[0] > n:
            start = (x.shape[0] - n) // 2
            x = x[start : start + n]
        return timbral_features(np.ascontiguousarray(x), sr=audio.sr)

    return for_each_track(context, settings, compute)

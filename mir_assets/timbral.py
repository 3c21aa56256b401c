"""Timbral assets: the eight Audio Commons ratings."""

from dagster import AssetExecutionContext, asset

from mir import analysis
from mir.timbral import TIMBRAL_KEYS
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings


@asset(**feature_asset_args("timbral", list(TIMBRAL_KEYS), captions=True, kinds={"duckdb"}))
def timbral_features(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """brightness, roughness, hardness, depth, booming, sharpness, warmth (0-100) and
    reverberation (%), from our vectorised Audio Commons models (mir/timbral.py, after
    `timbral_models` 0.4.0) on the whole track, or on `timbral.max_seconds` of its
    middle if that is > 0; they run at about 25x realtime, linear in the duration."""
    max_s = settings.config.timbral.max_seconds

    def compute(track_id: str) -> dict:
        return analysis.timbral(
            decoded(full_mix_path(settings, track_id, source_audio[track_id])), max_seconds=max_s
        )

    return for_each_track(context, settings, compute)

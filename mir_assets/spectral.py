"""Spectral assets: spectral shape, saturation and multiband RMS of the full mix."""

from dagster import AssetExecutionContext, asset

from mir import analysis
from mir.spectral import FREQUENCY_BANDS
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings

SPECTRAL_KEYS = [
    "spectral_flatness", "spectral_flux", "spectral_skewness", "spectral_kurtosis",
    "saturation_ratio", "saturation_count", *(f"rms_energy_{b}" for b in FREQUENCY_BANDS),
]  # fmt: skip


@asset(**feature_asset_args("spectral", SPECTRAL_KEYS, kinds={"numpy", "duckdb"}))
def spectral_features(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """Spectral flatness, flux, skewness and kurtosis (medians over 2048/512 frames of the
    shared STFT), near-full-scale saturation, and RMS of four bands (dBFS)."""

    def compute(track_id: str) -> dict:
        return analysis.spectral(decoded(full_mix_path(settings, track_id, source_audio[track_id])))

    return for_each_track(context, settings, compute)

"""Loudness assets: the full mix and each stem."""

from dagster import AssetExecutionContext, asset

from mir.feature_table import STEMS
from mir.loudness import measure_loudness
from mir.stems import require_stems
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings

STEM_LOUDNESS_KEYS = [f"{k}_{s}" for s in STEMS for k in ("lufs", "lra")]


@asset(**feature_asset_args("loudness", ["lufs", "lra"], kinds={"duckdb"}))
def loudness(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """`lufs` (LUFS, BS.1770-4 gated) and `lra` (LU, EBU Tech 3342) of the full mix."""
    window = settings.config.loudness.lra_window_s

    def compute(track_id: str) -> dict:
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        result = measure_loudness(audio.samples, sr=audio.sr, lra_window_s=window)
        return {"lufs": result.lufs, "lra": result.lra}

    return for_each_track(context, settings, compute)


@asset(**feature_asset_args("loudness", STEM_LOUDNESS_KEYS, needs_stems=True, kinds={"duckdb"}))
def stem_loudness(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """`lufs_<stem>` and `lra_<stem>` of drums, bass, other and vocals.

    Stems from a peak-normalising separator are not level-consistent with the mix:
    `.INFO` records `stems_peak_normalized` when that is so.
    """
    window = settings.config.loudness.lra_window_s

    def compute(track_id: str) -> dict:
        out = {}
        for name, path in require_stems(settings.track_dir(track_id), STEMS).items():
            audio = decoded(path)
            result = measure_loudness(audio.samples, sr=audio.sr, lra_window_s=window)
            out[f"lufs_{name}"], out[f"lra_{name}"] = result.lufs, result.lra
        return out

    return for_each_track(context, settings, compute)

"""Loudness assets: the full mix and each stem."""

from dagster import AssetExecutionContext, asset

from mir import analysis
from mir.feature_table import STEMS
from mir.stems import require_stems
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings

STEM_LOUDNESS_KEYS = [f"{k}_{s}" for s in STEMS for k in ("lufs", "lra")]


@asset(**feature_asset_args("loudness", ["lufs", "lra"], captions=True, kinds={"duckdb"}))
def loudness(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """`lufs` (LUFS, BS.1770-4 gated) and `lra` (LU, EBU Tech 3342) of the full mix."""
    window = settings.config.loudness.lra_window_s

    def compute(track_id: str) -> dict:
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        return analysis.loudness(audio, lra_window_s=window)

    return for_each_track(context, settings, compute)


@asset(
    **feature_asset_args(
        "loudness", STEM_LOUDNESS_KEYS, needs_stems=True, deps=["stems"], kinds={"duckdb"}
    )
)
def stem_loudness(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """`lufs_<stem>` and `lra_<stem>` of drums, bass, other and vocals.

    Stems from a peak-normalising separator are not level-consistent with the mix:
    `.INFO` records `stems_peak_normalized` when that is so.
    """
    window = settings.config.loudness.lra_window_s

    def compute(track_id: str) -> dict:
        stems = {
            n: decoded(p) for n, p in require_stems(settings.track_dir(track_id), STEMS).items()
        }
        return analysis.stem_loudness(stems, lra_window_s=window)

    return for_each_track(context, settings, compute)

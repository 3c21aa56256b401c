"""Loudness assets: integrated loudness and loudness range of the full mix."""

from dagster import AssetExecutionContext, asset

from mir.loudness import measure_loudness
from mir_assets.partitions import tracks_partitions
from mir_assets.runtime import (
    CODE_VERSION,
    batch_backfill_policy,
    decoded,
    for_each_track,
    full_mix_path,
)
from resources.settings import PipelineSettings


@asset(
    partitions_def=tracks_partitions,
    io_manager_key="feature_store",
    group_name="loudness",
    code_version=CODE_VERSION,
    backfill_policy=batch_backfill_policy(),
    kinds={"duckdb"},
    metadata={
        "column_comments": {
            "lufs": "integrated loudness, ITU-R BS.1770-4, LUFS (floor -70 for silence)",
            "lra": "loudness range, EBU Tech 3342 (3 s windows, relative gate -20 LU), LU",
        }
    },
)
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

"""Rhythm assets: the beat grid (beats, downbeats, tempo)."""

from dagster import AssetExecutionContext, asset

from mir.beats import MADMOM_SR, beat_statistics, track_beats
from mir.info import read_times, sidecar_path, write_times
from mir_assets.partitions import tracks_partitions
from mir_assets.runtime import (
    CODE_VERSION,
    batch_backfill_policy,
    decoded,
    for_each_track,
    full_mix_path,
)
from resources.settings import PipelineSettings

BEATS_GRID = ".BEATS_GRID"
DOWNBEATS = ".DOWNBEATS"


@asset(
    partitions_def=tracks_partitions,
    io_manager_key="feature_store",
    group_name="rhythm",
    code_version=CODE_VERSION,
    backfill_policy=batch_backfill_policy(),
    kinds={"madmom", "duckdb"},
)
def beat_grid(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """Beats and downbeats, written to `<Track>.BEATS_GRID` and `<Track>.DOWNBEATS`.

    madmom's downbeat network + bar-pointer DBN (3/4 and 4/4), or librosa when
    `beats.tracker: librosa` (no downbeats). Values: `bpm` (BPM), `beat_count`,
    `beat_regularity` (s), `bpm_is_defined` (0/1), `beats_per_bar`, `downbeat_count`.
    """
    cfg = settings.config.beats

    def compute(track_id: str) -> dict:
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        sr = MADMOM_SR if cfg.tracker == "madmom" else audio.sr
        grid = track_beats(
            audio.mono(sr),
            sr=sr,
            tracker=cfg.tracker,
            beats_per_bar=cfg.beats_per_bar,
            min_bpm=cfg.min_bpm,
            max_bpm=cfg.max_bpm,
            fps=cfg.fps,
        )
        track_dir = settings.track_dir(track_id)
        write_times(sidecar_path(track_dir, BEATS_GRID), grid.beats)
        downbeats_file = sidecar_path(track_dir, DOWNBEATS)
        if grid.downbeats.size:
            write_times(downbeats_file, grid.downbeats)
        elif downbeats_file.exists() and read_times(downbeats_file).size:
            # a grid from another tracker must not be paired with stale downbeats
            downbeats_file.unlink()
        stats = beat_statistics(grid.beats, duration_s=audio.duration_s)
        return {
            **stats,
            "beats_per_bar": grid.beats_per_bar,
            "downbeat_count": int(grid.downbeats.size),
            "beat_tracker": grid.tracker,
        }

    return for_each_track(context, settings, compute)

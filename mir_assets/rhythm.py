"""Rhythm assets: the beat grid and tempo, onset rhythm of the mix, per-stem rhythm."""

import numpy as np
from dagster import AssetExecutionContext, asset

from mir import analysis
from mir.errors import MissingInput
from mir.feature_table import RHYTHM_STEMS
from mir.info import read_times, sidecar_path, write_times
from mir.intermediates import onset_times
from mir.stems import require_stems
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings

BEATS_GRID = ".BEATS_GRID"
DOWNBEATS = ".DOWNBEATS"
ONSETS = ".ONSETS"

BEAT_GRID_KEYS = [
    "bpm",
    "bpm_source",
    "bpm_confidence",
    "bpm_madmom",
    "bpm_essentia",
    "beat_count",
    "beat_regularity",
    "bpm_is_defined",
    "beats_per_bar",
    "downbeat_count",
]
RHYTHM_KEYS = [
    "onset_count", "onset_density", "onset_strength_mean", "onset_strength_std", "syncopation",
    "on_beat_ratio", "rhythmic_complexity", "rhythmic_evenness", "ioi_mean", "ioi_std",
]  # fmt: skip
STEM_RHYTHM_KEYS = [
    f"{f}_{s}"
    for s in RHYTHM_STEMS
    for f in (
        "onset_density_average",
        "onset_density_variance",
        "syncopation",
        "rhythmic_complexity",
        "rhythmic_evenness",
    )
]


def read_beat_grid(
    settings: PipelineSettings, track_id: str, beat_grid: dict[str, dict]
) -> tuple[np.ndarray, np.ndarray]:
    """The beats and downbeats (s) of a track, from the files its `beat_grid` values
    describe; checked against those values, so a missing or stale grid fails the track
    with a clear error instead of reading as "no beats".

    Raises
    ------
    MissingInput
        No `beat_grid` values for the track, a missing `.BEATS_GRID` (or `.DOWNBEATS`
        where the tracker found bars), or a file that does not hold the recorded beats.
    """
    values = beat_grid.get(track_id)
    if values is None:
        raise MissingInput(f"the beat_grid values of {track_id!r}", "beat_grid")
    track_dir = settings.track_dir(track_id)
    beats_file = sidecar_path(track_dir, BEATS_GRID)
    beats = read_times(beats_file, written_by="beat_grid")
    if beats.size != int(values.get("beat_count", beats.size)):
        raise MissingInput(
            f"{beats_file} (it holds {beats.size} beats, beat_grid recorded "
            f"{values['beat_count']}: the file is stale)",
            "beat_grid",
        )
    downbeats = np.zeros(0)
    if int(values.get("downbeat_count") or 0) > 0:
        downbeats = read_times(sidecar_path(track_dir, DOWNBEATS), written_by="beat_grid")
    return beats, downbeats


def write_grid_files(track_dir, grid) -> None:
    """`.BEATS_GRID` always; `.DOWNBEATS` when the tracker found bars (a stale one is removed)."""
    write_times(sidecar_path(track_dir, BEATS_GRID), grid.beats)
    downbeats_file = sidecar_path(track_dir, DOWNBEATS)
    if grid.downbeats.size:
        write_times(downbeats_file, grid.downbeats)
    elif downbeats_file.exists():
        # a grid from another tracker must not be paired with stale downbeats
        downbeats_file.unlink()


@asset(
    **feature_asset_args(
        "rhythm", BEAT_GRID_KEYS, captions=True, kinds={"madmom", "essentia", "duckdb"}
    )
)
def beat_grid(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """Beats and downbeats (`<Track>.BEATS_GRID`, `<Track>.DOWNBEATS`) and the tempo.

    madmom's downbeat network + bar-pointer DBN (3/4 and 4/4), or librosa when
    `beats.tracker: librosa` (no downbeats). `bpm_madmom` comes from the same network's
    beat activation, `bpm_essentia` from RhythmExtractor2013; `bpm` is their consensus
    with the grid's tempo (two agreeing estimators outvote the grid), its octave checked
    against the onsets at the beats and half-beats (`bpm_source`: the agreeing sources;
    `bpm_confidence`: 0-1). A grid at another tempo than the chosen one is decoded again
    at that tempo from the same activations.
    """

    def compute(track_id: str) -> dict:
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        values, grid = analysis.beat_grid(audio, settings.config.beats)
        write_grid_files(settings.track_dir(track_id), grid)
        if grid.activation.size:  # madmom's raw activations, for the 100 Hz time series
            arrays = {
                "beat_activation_ts": grid.activation,
                "downbeat_activation_ts": grid.downbeat_activation,
            }
            settings.tables.write_arrays(track_id, -1, arrays)
        return values

    return for_each_track(context, settings, compute)


@asset(**feature_asset_args("rhythm", RHYTHM_KEYS, kinds={"librosa", "duckdb"}))
def rhythm_features(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    source_audio: dict[str, dict],
    beat_grid: dict[str, dict],
) -> dict[str, dict]:
    """Onsets of the mix (`<Track>.ONSETS`) and their rhythm against the beat grid."""

    def compute(track_id: str) -> dict:
        beats, _ = read_beat_grid(settings, track_id, beat_grid)
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        track_dir = settings.track_dir(track_id)
        write_times(sidecar_path(track_dir, ONSETS), onset_times(audio))
        return analysis.rhythm(audio, beats)

    return for_each_track(context, settings, compute)


@asset(
    **feature_asset_args(
        "rhythm", STEM_RHYTHM_KEYS, needs_stems=True, deps=["stems"], kinds={"librosa", "duckdb"}
    )
)
def stem_rhythm(
    context: AssetExecutionContext, settings: PipelineSettings, beat_grid: dict[str, dict]
) -> dict[str, dict]:
    """Onset density, syncopation, complexity and evenness of the drums, bass and other stems."""

    def compute(track_id: str) -> dict:
        beats, _ = read_beat_grid(settings, track_id, beat_grid)
        track_dir = settings.track_dir(track_id)
        stems = {n: decoded(p) for n, p in require_stems(track_dir, RHYTHM_STEMS).items()}
        return analysis.stem_rhythm(stems, beats)

    return for_each_track(context, settings, compute)

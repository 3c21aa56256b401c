"""Every feature family's computation, and the whole analysis of one track.

The family functions (`beat_grid`, `loudness`, ...) take a :class:`mir.family.Track` and
return flat `{key: value}`; their declarations in :mod:`mir.families` name them. The
Dagster assets generated from those declarations call them one per asset; `mir analyze`
calls :func:`analyze_track`, which runs every family that needs no model, in the
declarations' order, on one decoded track (whose cached intermediates they share). The
`*_of` functions are the same computations on a decoded signal, for the crops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mir.audio import Audio
from mir.beats import MADMOM_SR, BeatGrid, beat_statistics, track_beats
from mir.config import BeatsConfig, MasterConfig
from mir.errors import MissingInput
from mir.family import Family, Track
from mir.loudness import measure_loudness

BEATS_GRID = ".BEATS_GRID"
DOWNBEATS = ".DOWNBEATS"
ONSETS = ".ONSETS"
CHORDS = ".CHORDS"


def beat_grid_of(audio: Audio, cfg: BeatsConfig) -> tuple[dict, BeatGrid]:
    """Beats, downbeats and tempo: `bpm`, `bpm_source`, `bpm_confidence`, `bpm_madmom`,
    `bpm_essentia`, `beat_count`, `beat_regularity`, `bpm_is_defined`, `beats_per_bar`,
    `downbeat_count`, `beat_tracker`.

    `bpm` is :func:`mir.rhythm.choose_tempo` over the grid's tempo, `bpm_madmom` and
    `bpm_essentia`, its octave checked against the onsets below 4 kHz at the grid's beats
    and half-beats. When the chosen tempo is not the grid's (the grid lost or gained beats,
    or tracked the other octave), the grid is decoded again at that tempo from the same
    network activations, and its statistics are those of the new grid."""
    from mir.rhythm import (
        TEMPO_TOLERANCE,
        backbeat_envelope,
        bpm_essentia,
        bpm_madmom,
        choose_tempo,
        half_beat_ratio,
        retrack_at_tempo,
    )

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
    stats = beat_statistics(grid.beats, duration_s=audio.duration_s)
    madmom_bpm = bpm_madmom(grid.activation, fps=grid.fps) if grid.activation.size else 0.0
    essentia_bpm = bpm_essentia(audio)
    grid_bpm = stats["bpm"] if stats["bpm_is_defined"] else 0.0
    half_beats = None
    if grid_bpm > 0:
        envelope = backbeat_envelope(audio)
        level_bpm = 60.0 / float(np.median(np.diff(grid.beats)))

        def half_beats(bpm: float) -> float | None:
            for level in (1.0, 0.5, 2.0):
                if abs(bpm / (level_bpm * level) - 1.0) < TEMPO_TOLERANCE:
                    return half_beat_ratio(
                        envelope, grid.beats, level=level, positions=grid.positions
                    )
            return None

    choice = choose_tempo(
        {"grid": grid_bpm, "madmom": madmom_bpm, "essentia": essentia_bpm},
        half_beats=half_beats,
        min_bpm=cfg.min_bpm,
        max_bpm=cfg.max_bpm,
    )
    off_grid = grid_bpm <= 0 or abs(choice.bpm / grid_bpm - 1) > TEMPO_TOLERANCE
    if choice.bpm > 0 and off_grid:
        retracked = retrack_at_tempo(grid, choice.bpm, beats_per_bar=cfg.beats_per_bar)
        new_stats = beat_statistics(retracked.beats, duration_s=audio.duration_s)
        if new_stats["bpm_is_defined"] and abs(new_stats["bpm"] / choice.bpm - 1) < TEMPO_TOLERANCE:
            grid, stats = retracked, new_stats
    if choice.bpm > 0 and not (
        stats["bpm_is_defined"] and abs(stats["bpm"] / choice.bpm - 1) < TEMPO_TOLERANCE
    ):
        stats["bpm"] = choice.bpm  # no grid at this tempo: the estimators' number
    values = {
        **stats,
        "bpm_source": choice.source,
        "bpm_confidence": choice.confidence,
        "bpm_madmom": madmom_bpm,
        "bpm_essentia": essentia_bpm,
        "beats_per_bar": grid.beats_per_bar,
        "downbeat_count": int(grid.downbeats.size),
        "beat_tracker": grid.tracker,
    }
    return values, grid


def loudness_of(audio: Audio, *, lra_window_s: float = 3.0) -> dict:
    """`lufs` and `lra` of a decoded signal."""
    result = measure_loudness(audio.samples, sr=audio.sr, lra_window_s=lra_window_s)
    return {"lufs": result.lufs, "lra": result.lra}


def spectral_of(audio: Audio, *, band_steps: int | None = None) -> dict:
    """Spectral shape, saturation, band levels (`band_steps`: the bins of a time series of
    the same audio, which then reuses the band-passed energies)."""
    from mir.spectral import multiband_rms, saturation, spectral_features

    return {
        **spectral_features(audio),
        **saturation(audio.samples, sr=audio.sr),
        **multiband_rms(audio, n_steps=band_steps),
    }


def harmonic_of(audio: Audio, stems: dict[str, Audio] | None = None) -> dict:
    """Chroma, HPCP, TIV and the key of the mix, or of the bass and other stems when
    given (`harmonic_source` says which)."""
    from mir.harmonic import (
        chroma_features,
        estimate_tuning,
        harmonic_features,
        harmonic_input,
        hpcp_of,
    )
    from mir.intermediates import stft_magnitude

    y, source = harmonic_input(audio, stems)
    # the mix's tuning and HPCP are its shared ones; a stem sum has its own
    mix = source == "full_mix"
    return {
        **chroma_features(y, tuning=estimate_tuning(stft_magnitude(audio)) if mix else None),
        **harmonic_features(y, frames=hpcp_of(audio) if mix else None),
        "harmonic_source": source,
    }


def timbral_of(audio: Audio, *, max_seconds: float = 0.0) -> dict:
    """The eight Audio Commons ratings (:mod:`mir.timbral`) of the whole track, or, if
    `max_seconds` > 0, of that many seconds from its middle (an analysis window; the
    excerpt is an `Audio` of its own, so what it caches stays with it)."""
    from mir.timbral import timbral_of_audio

    n = int(max_seconds * audio.sr)
    if max_seconds > 0 and audio.n_samples > n:
        start = (audio.n_samples - n) // 2
        audio = Audio(samples=audio.samples[start : start + n], sr=audio.sr, path=audio.path)
    return timbral_of_audio(audio)


# -- the families ---------------------------------------------------------------------


def _beats(track: Track, family: str) -> np.ndarray:
    if track.beats is None:
        raise MissingInput(f"the beat grid ({family} reads it)", "beat_grid")
    return track.beats


def write_grid_files(track_dir, beats: np.ndarray, downbeats: np.ndarray) -> None:
    """`.BEATS_GRID` always; `.DOWNBEATS` when the tracker found bars (a stale one is
    removed: a grid from another tracker must not be paired with old downbeats)."""
    from mir.info import sidecar_path, write_times

    write_times(sidecar_path(track_dir, BEATS_GRID), beats)
    downbeats_file = sidecar_path(track_dir, DOWNBEATS)
    if downbeats.size:
        write_times(downbeats_file, downbeats)
    elif downbeats_file.exists():
        downbeats_file.unlink()


def read_beat_grid(track_dir, values: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """The beats and downbeats (s) a track's `beat_grid` `values` describe, from the files
    in `track_dir`; checked against those values, so a missing or stale grid fails the
    track with a clear error instead of reading as "no beats".

    Raises
    ------
    MissingInput
        No `beat_grid` values, a missing `.BEATS_GRID` (or `.DOWNBEATS` where the tracker
        found bars), or a file that does not hold the recorded beats.
    """
    from mir.info import read_times, sidecar_path

    if values is None:
        raise MissingInput(f"the beat_grid values of {track_dir}", "beat_grid")
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


def beat_grid(track: Track) -> dict:
    """The beat grid family: :func:`beat_grid_of`; sets the track's beats and downbeats,
    writes `.BEATS_GRID` and `.DOWNBEATS`, and hands madmom's activations on as series."""
    values, grid = beat_grid_of(track.audio, track.config.beats)
    track.beats, track.downbeats = grid.beats, grid.downbeats
    if track.out_dir is not None:
        write_grid_files(track.out_dir, grid.beats, grid.downbeats)
    if grid.activation.size:  # madmom's raw activations, for the 100 Hz time series
        track.series["beat_activation_ts"] = grid.activation
        track.series["downbeat_activation_ts"] = grid.downbeat_activation
    return values


def rhythm_features(track: Track) -> dict:
    """Onsets of the mix (written as `.ONSETS`) and their rhythm against the beat grid."""
    from mir.intermediates import onset_times
    from mir.rhythm import rhythm_features as rhythm_of

    values = rhythm_of(track.audio, beats=_beats(track, "rhythm_features"))
    if track.out_dir is not None:
        from mir.info import sidecar_path, write_times

        write_times(sidecar_path(track.out_dir, ONSETS), onset_times(track.audio))
    return values


def stem_rhythm(track: Track) -> dict:
    from mir.families import RHYTHM_STEMS
    from mir.rhythm import stem_rhythm as one

    beats = _beats(track, "stem_rhythm")
    out: dict = {}
    for name in RHYTHM_STEMS:
        out.update(one(track.stems[name], beats=beats, name=name))
    return out


def loudness(track: Track) -> dict:
    return loudness_of(track.audio, lra_window_s=track.config.loudness.lra_window_s)


def stem_loudness(track: Track) -> dict:
    from mir.families import STEMS

    out = {}
    for name in STEMS:
        values = loudness_of(track.stems[name], lra_window_s=track.config.loudness.lra_window_s)
        out[f"lufs_{name}"], out[f"lra_{name}"] = values["lufs"], values["lra"]
    return out


def spectral_features(track: Track) -> dict:
    return spectral_of(track.audio)


def harmonic_features(track: Track) -> dict:
    return harmonic_of(track.audio, track.stems)


def stem_harmonic(track: Track) -> dict:
    from mir.families import HARMONIC_STEMS
    from mir.harmonic import stem_harmonic as one

    out: dict = {}
    for name in HARMONIC_STEMS:
        out.update(one(track.stems[name], name=name))
    return out


def chords(track: Track) -> dict:
    """Chord segments (written as `.CHORDS`) and their statistics."""
    from mir.chords import chord_features, recognize_chords, write_chords

    segments = recognize_chords(track.audio, model=track.config.chords.model)
    if track.out_dir is not None:
        from mir.info import sidecar_path

        write_chords(sidecar_path(track.out_dir, CHORDS), segments)
    return chord_features(segments, track.audio.duration_s)


def timbral_features(track: Track) -> dict:
    return timbral_of(track.audio, max_seconds=track.config.timbral.max_seconds)


# -- the whole analysis -----------------------------------------------------------------


@dataclass
class TrackAnalysis:
    """Everything `mir analyze` computes for one file."""

    values: dict = field(default_factory=dict)
    track: Track | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def analysis_families(families=None) -> list[Family]:
    """The families `mir analyze` runs: those with a computation that need no model."""
    from mir.families import FAMILIES

    return [f for f in (FAMILIES if families is None else families) if f.in_analysis]


def analyze_track(
    audio: Audio,
    cfg: MasterConfig,
    *,
    stems: dict[str, Audio] | None = None,
    out_dir=None,
    families=None,
    progress: Callable[[str], None] | None = None,
) -> TrackAnalysis:
    """Run every model-free family (:func:`analysis_families`) on one decoded track.

    A family that reads stems runs when all of them are given (one that only uses them
    when present always runs); `skipped` says which did not and why. With `out_dir`, the
    families write their sidecar files (`.BEATS_GRID`, `.ONSETS`, `.CHORDS`) there.
    """
    track = Track(audio, cfg, stems=stems, out_dir=out_dir)
    result = TrackAnalysis(track=track)
    for family in analysis_families(families):
        if family.needs_stems and not all(n in track.stems for n in family.stems):
            result.skipped[family.name] = "needs the " + ", ".join(family.stems) + " stems"
            continue
        if progress:
            progress(family.name)
        t0 = time.perf_counter()
        track.values = dict(result.values)
        result.values.update(family.run(track))
        result.seconds[family.name] = time.perf_counter() - t0
    return result

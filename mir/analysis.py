"""Every feature family of a track, as one function each, and the whole analysis.

The Dagster assets call these family functions one per asset; `mir analyze` calls
:func:`analyze_track`, which runs them all on one decoded track. Either way a family
takes the decoded :class:`~mir.audio.Audio` (whose cached intermediates it shares with
the others) and returns flat `{key: value}`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mir.audio import Audio
from mir.beats import MADMOM_SR, BeatGrid, beat_statistics, track_beats
from mir.config import BeatsConfig, MasterConfig
from mir.feature_table import HARMONIC_STEMS, RHYTHM_STEMS, STEMS
from mir.loudness import measure_loudness


def beat_grid(audio: Audio, cfg: BeatsConfig) -> tuple[dict, BeatGrid]:
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


def rhythm(audio: Audio, beats: np.ndarray) -> dict:
    from mir.rhythm import rhythm_features

    return rhythm_features(audio, beats=beats)


def loudness(audio: Audio, *, lra_window_s: float = 3.0) -> dict:
    result = measure_loudness(audio.samples, sr=audio.sr, lra_window_s=lra_window_s)
    return {"lufs": result.lufs, "lra": result.lra}


def spectral(audio: Audio, *, band_steps: int | None = None) -> dict:
    """Spectral shape, saturation, band levels (`band_steps`: the bins of a time series of
    the same audio, which then reuses the band-passed energies)."""
    from mir.spectral import multiband_rms, saturation, spectral_features

    return {
        **spectral_features(audio),
        **saturation(audio.samples, sr=audio.sr),
        **multiband_rms(audio, n_steps=band_steps),
    }


def harmonic(audio: Audio, stems: dict[str, Audio] | None = None) -> dict:
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


def timbral(audio: Audio, *, max_seconds: float = 0.0) -> dict:
    """The eight Audio Commons ratings (:mod:`mir.timbral`) of the whole track, or, if
    `max_seconds` > 0, of that many seconds from its middle (an analysis window; the
    excerpt is an `Audio` of its own, so what it caches stays with it)."""
    from mir.timbral import timbral_of_audio

    n = int(max_seconds * audio.sr)
    if max_seconds > 0 and audio.n_samples > n:
        start = (audio.n_samples - n) // 2
        audio = Audio(samples=audio.samples[start : start + n], sr=audio.sr, path=audio.path)
    return timbral_of_audio(audio)


def stem_loudness(stems: dict[str, Audio], *, lra_window_s: float = 3.0) -> dict:
    out = {}
    for name in STEMS:
        values = loudness(stems[name], lra_window_s=lra_window_s)
        out[f"lufs_{name}"], out[f"lra_{name}"] = values["lufs"], values["lra"]
    return out


def stem_rhythm(stems: dict[str, Audio], beats: np.ndarray) -> dict:
    from mir.rhythm import stem_rhythm as one

    out: dict = {}
    for name in RHYTHM_STEMS:
        out.update(one(stems[name], beats=beats, name=name))
    return out


def stem_harmonic(stems: dict[str, Audio]) -> dict:
    from mir.harmonic import stem_harmonic as one

    out: dict = {}
    for name in HARMONIC_STEMS:
        out.update(one(stems[name], name=name))
    return out


@dataclass
class TrackAnalysis:
    """Everything `mir analyze` computes for one file."""

    values: dict = field(default_factory=dict)
    grid: BeatGrid | None = None
    onsets: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seconds: dict[str, float] = field(default_factory=dict)


def analyze_track(
    audio: Audio,
    cfg: MasterConfig,
    *,
    stems: dict[str, Audio] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrackAnalysis:
    """Run every model-free feature family on one decoded track (and its stems, if given)."""
    from mir.intermediates import onset_times

    result = TrackAnalysis()
    stems = stems or {}

    def step(name: str, fn: Callable[[], dict]) -> None:
        if progress:
            progress(name)
        t0 = time.perf_counter()
        result.values.update(fn())
        result.seconds[name] = time.perf_counter() - t0

    def grid_step() -> dict:
        values, result.grid = beat_grid(audio, cfg.beats)
        return values

    step("beat_grid", grid_step)
    step("rhythm_features", lambda: rhythm(audio, result.grid.beats))
    result.onsets = onset_times(audio)
    step("loudness", lambda: loudness(audio, lra_window_s=cfg.loudness.lra_window_s))
    step("spectral_features", lambda: spectral(audio))
    step("harmonic_features", lambda: harmonic(audio, stems))
    step("timbral_features", lambda: timbral(audio, max_seconds=cfg.timbral.max_seconds))
    if all(n in stems for n in STEMS):
        step("stem_loudness", lambda: stem_loudness(stems, lra_window_s=cfg.loudness.lra_window_s))
    if all(n in stems for n in RHYTHM_STEMS):
        step("stem_rhythm", lambda: stem_rhythm(stems, result.grid.beats))
    if all(n in stems for n in HARMONIC_STEMS):
        step("stem_harmonic", lambda: stem_harmonic(stems))
    return result

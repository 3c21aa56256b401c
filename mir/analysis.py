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
from mir.family import Family, Track, Undefined, analysable
from mir.loudness import measure_loudness

BEATS_GRID = ".BEATS_GRID"
DOWNBEATS = ".DOWNBEATS"
ONSETS = ".ONSETS"
CHORDS = ".CHORDS"


#: the beat network hears a pulse where its activation at the grid's beats has at least
#: this median (music: 0.2-0.9; noise, a sine, DC, a steady chord: below 0.08). Below it
#: the grid is the DBN's path through noise: no beats, no tempo
BEAT_EVIDENCE = 0.15
#: the shortest audio a tempo is read from, in s (four beats at 120 BPM; the beat network's
#: first and last frames have no context, and a tempo of a second of audio is made up)
MIN_TEMPO_S = 2.0
#: a grid of fewer beats (a click, a few hits) has no tempo
MIN_TEMPO_BEATS = 4
#: the beat-grid keys a track without a tempo leaves undefined
TEMPO_KEYS = ("bpm", "bpm_confidence", "bpm_madmom", "bpm_essentia", "beat_regularity")


def beat_evidence(grid: BeatGrid) -> float | None:
    """The median of the beat activation at the grid's beats (0-1; madmom's grids; None
    without an activation or beats)."""
    if grid.activation.size == 0 or grid.beats.size == 0:
        return None
    frames = np.clip(np.round(grid.beats * grid.fps).astype(int), 0, grid.activation.size - 1)
    return float(np.median(grid.activation[frames]))


def _without_beats(grid: BeatGrid) -> BeatGrid:
    """`grid` with no beats or bars (its network activations kept for the time series)."""
    empty = np.zeros(0)
    return BeatGrid(
        empty,
        empty,
        np.zeros(0, dtype=int),
        grid.activation,
        grid.fps,
        grid.tracker,
        grid.downbeat_activation,
    )


def no_tempo(grid: BeatGrid, reason: str) -> tuple[dict, BeatGrid]:
    """The beat-grid values of a track without beats (silence, noise, a tone, too short),
    every tempo undefined with `reason`, and its empty grid."""
    why = Undefined(reason)
    values = {k: why for k in TEMPO_KEYS}
    values.update(
        {
            "bpm_source": "none",
            "beat_count": 0,
            "bpm_is_defined": 0,
            "beats_per_bar": why,
            "downbeat_count": 0,
            "beat_tracker": grid.tracker,
        }
    )
    return values, _without_beats(grid)


def beat_grid_of(audio: Audio, cfg: BeatsConfig) -> tuple[dict, BeatGrid]:
    """Beats, downbeats and tempo: `bpm`, `bpm_source`, `bpm_confidence`, `bpm_madmom`,
    `bpm_essentia`, `beat_count`, `beat_regularity`, `bpm_is_defined`, `beats_per_bar`,
    `downbeat_count`, `beat_tracker`.

    `bpm` is :func:`mir.rhythm.choose_tempo` over the grid's tempo, `bpm_madmom` and
    `bpm_essentia`, its octave checked against the onsets below 4 kHz at the grid's beats
    and half-beats. When the chosen tempo is not the grid's (the grid lost or gained beats,
    or tracked the other octave), the grid is decoded again at that tempo from the same
    network activations, and its statistics are those of the new grid.

    A track without a beat has no tempo: digital silence, audio shorter than
    :data:`MIN_TEMPO_S`, or a grid the beat network does not hear
    (:data:`BEAT_EVIDENCE`: noise, tones, DC) get an empty grid and every tempo
    :class:`~mir.family.Undefined`; so does a grid too irregular to define one
    (`bpm_is_defined` 0).

    Parameters
    ----------
    audio : Audio
        The decoded mix (resampled to 44.1 kHz for madmom, once, through its cache).
    cfg : BeatsConfig
        `beats:` of the configuration: the tracker, the bar lengths (beats per bar), the
        tempo range `min_bpm` .. `max_bpm` in BPM, the activation rate `fps` in Hz.

    Returns
    -------
    values : dict
        `bpm`, `bpm_madmom`, `bpm_essentia` in BPM (30 .. 300); `bpm_confidence` 0 .. 1;
        `beat_count` and `downbeat_count` (≥ 0); `beat_regularity`, the standard deviation
        of the inter-beat intervals in s, capped at 1 (0 .. 1); `bpm_is_defined` 0 or 1;
        `beats_per_bar` (2 .. 16); `bpm_source` and `beat_tracker` text. A tempo the
        audio does not define is :class:`~mir.family.Undefined`.
    grid : BeatGrid
        Beat and downbeat times in seconds (0 .. the duration), and the network's
        activations at `fps` frames per second; no beats for a track without a beat.
    """
    from mir.rhythm import (
        bpm_essentia,
        bpm_madmom,
        choose_tempo,
        drum_envelopes,
        metrical_evidence,
        tempo_consensus,
    )

    sr = MADMOM_SR if cfg.tracker == "madmom" else audio.sr
    nothing = BeatGrid(np.zeros(0), np.zeros(0), np.zeros(0, dtype=int), tracker=cfg.tracker)
    if silent(audio):
        return no_tempo(nothing, f"{SILENCE}: no beat")
    if audio.duration_s < MIN_TEMPO_S:
        return no_tempo(
            nothing,
            f"{audio.duration_s:.2f} s of audio: a tempo is read from {MIN_TEMPO_S:g} s at least",
        )
    grid = track_beats(
        audio.mono(sr),
        sr=sr,
        tracker=cfg.tracker,
        beats_per_bar=cfg.beats_per_bar,
        min_bpm=cfg.min_bpm,
        max_bpm=cfg.max_bpm,
        fps=cfg.fps,
    )
    evidence = beat_evidence(grid)
    if grid.tracker == "madmom" and (evidence is None or evidence < BEAT_EVIDENCE):
        heard = "no beats" if evidence is None else f"a median of {evidence:.3f}"
        return no_tempo(
            grid,
            f"no beat: the beat network's activation at the grid's beats has {heard} "
            f"(a pulse needs {BEAT_EVIDENCE:g})",
        )
    if grid.beats.size < MIN_TEMPO_BEATS:
        return no_tempo(grid, f"{grid.beats.size} beat(s): a tempo needs {MIN_TEMPO_BEATS}")
    stats = beat_statistics(grid.beats, duration_s=audio.duration_s)
    madmom = estimator_tempo(
        bpm_madmom(grid.activation, fps=grid.fps) if grid.activation.size else 0.0,
        "madmom's TempoEstimationProcessor",
    )
    essentia = estimator_tempo(bpm_essentia(audio), "Essentia's RhythmExtractor2013")
    estimates = {
        "grid": stats["bpm"] if stats["bpm_is_defined"] else 0.0,
        "madmom": 0.0 if isinstance(madmom, Undefined) else madmom,
        "essentia": 0.0 if isinstance(essentia, Undefined) else essentia,
    }
    reference, cluster = tempo_consensus(estimates)
    if estimates["grid"] > 0 and cluster and "grid" not in cluster:
        # the grid lost or gained beats: decoded again at the consensus tempo, at the
        # octave nearest the grid's, before its level is judged
        target = reference * min(
            (1.0, 0.5, 2.0), key=lambda f: abs(np.log2(reference * f / estimates["grid"]))
        )
        grid, stats = _retracked(grid, stats, target, audio.duration_s, cfg)
        estimates["grid"] = stats["bpm"] if stats["bpm_is_defined"] else 0.0
    evidence = None
    if estimates["grid"] > 0:
        evidence = metrical_evidence(
            grid, drum_envelopes(audio), min_bpm=cfg.min_bpm, max_bpm=cfg.max_bpm
        )
    choice = choose_tempo(estimates, evidence=evidence, min_bpm=cfg.min_bpm, max_bpm=cfg.max_bpm)
    if choice.bpm <= 0:
        values, _ = no_tempo(grid, "no tempo source found one")
        values.update(beat_count=stats["beat_count"], downbeat_count=int(grid.downbeats.size))
        if grid.beats_per_bar:
            values["beats_per_bar"] = grid.beats_per_bar
        if stats["beat_count"] >= 2:
            values["beat_regularity"] = stats["beat_regularity"]
        return values, grid
    if estimates["grid"] <= 0 or not _same_tempo(choice.bpm, estimates["grid"]):
        grid, stats = _retracked(grid, stats, choice.bpm, audio.duration_s, cfg)
    if not (stats["bpm_is_defined"] and _same_tempo(stats["bpm"], choice.bpm)):
        stats["bpm"] = choice.bpm  # no grid at this tempo: the estimators' number
    values = {
        **stats,
        "bpm_source": choice.source,
        "bpm_confidence": choice.confidence,
        "bpm_madmom": madmom,
        "bpm_essentia": essentia,
        "beats_per_bar": grid.beats_per_bar
        or Undefined(f"the {grid.tracker} tracker finds no bars"),
        "downbeat_count": int(grid.downbeats.size),
        "beat_tracker": grid.tracker,
    }
    if stats["beat_count"] < 2:
        values["beat_regularity"] = Undefined("fewer than two beats: no interval")
    if not stats["bpm_is_defined"]:
        why = Undefined("no steady beat: the grid's inter-beat intervals vary too much")
        values["bpm"] = values["bpm_confidence"] = why
    return values, grid


def _retracked(
    grid: BeatGrid, stats: dict, bpm: float, duration_s: float, cfg: BeatsConfig
) -> tuple[BeatGrid, dict]:
    """The grid decoded again at `bpm` (:func:`mir.rhythm.retrack_at_tempo`) with its
    statistics, when that grid defines a tempo at `bpm`; else `grid` and `stats`."""
    from mir.rhythm import retrack_at_tempo

    retracked = retrack_at_tempo(grid, bpm, beats_per_bar=cfg.beats_per_bar)
    new_stats = beat_statistics(retracked.beats, duration_s=duration_s)
    if new_stats["bpm_is_defined"] and _same_tempo(new_stats["bpm"], bpm):
        return retracked, new_stats
    return grid, stats


#: an estimator's tempo outside this range (BPM) is not a tempo it can give (Essentia's
#: RhythmExtractor2013 reads 40-208, madmom's estimator 40-250): an artefact, undefined
ESTIMATOR_RANGE = (30.0, 300.0)


def _same_tempo(a: float, b: float) -> bool:
    from mir.rhythm import TEMPO_TOLERANCE

    return b > 0 and abs(a / b - 1.0) < TEMPO_TOLERANCE


def estimator_tempo(bpm: float, name: str) -> float | Undefined:
    """An estimator's tempo, or :class:`~mir.family.Undefined` when it found none (0) or
    gave a number outside :data:`ESTIMATOR_RANGE`."""
    lo, hi = ESTIMATOR_RANGE
    if bpm <= 0:
        return Undefined(f"{name} found no tempo")
    if not lo <= bpm <= hi:
        return Undefined(f"{name} gave {bpm:g} BPM, outside {lo:g}-{hi:g}: not a tempo")
    return bpm


def loudness_of(audio: Audio, *, lra_window_s: float = 3.0) -> dict:
    """`lufs` and `lra` of a decoded signal; each :class:`~mir.family.Undefined` where the
    signal holds no measurement (shorter than one 400 ms gating block; fewer than two
    `lra_window_s` windows above the gates).

    Parameters
    ----------
    audio : Audio
        The decoded signal, every channel, at its own rate.
    lra_window_s : float
        Length in seconds (> 0) of the short-term windows the loudness range reads; 3 s
        in EBU Tech 3342 (`loudness.lra_window_s`).

    Returns
    -------
    dict
        `lufs` : float, LUFS, integrated loudness (ITU-R BS.1770-4, EBU R128), -70 .. +12
        (-70: silence). `lra` : float, LU, loudness range (EBU Tech 3342), 0 .. 50.
    """
    result = measure_loudness(audio.samples, sr=audio.sr, lra_window_s=lra_window_s)
    lufs = result.lufs
    if lufs is None:
        lufs = Undefined(f"{audio.duration_s:.2f} s of audio: shorter than one 400 ms gating block")
    lra = result.lra
    if lra is None:
        lra = Undefined(
            f"fewer than two {lra_window_s:g} s windows above the loudness gates "
            f"({audio.duration_s:.2f} s of audio{', digital silence' if silent(audio) else ''})"
        )
    return {"lufs": lufs, "lra": lra}


def silent(audio: Audio) -> bool:
    """Whether the audio is digital silence: every sample 0 (computed once per signal)."""
    return audio.cached("digital_silence", lambda: not np.any(audio.samples))


#: why a value that needs sound is undefined for digital silence
SILENCE = "digital silence"


def spectral_of(audio: Audio, *, band_steps: int | None = None) -> dict:
    """Spectral shape, saturation, band levels (`band_steps`: the bins of a time series of
    the same audio, which then reuses the band-passed energies). Digital silence has no
    spectrum: its shape is undefined (its band levels are the floor, its saturation 0).

    Parameters
    ----------
    audio : Audio
        The decoded mix (read as 44.1 kHz mono).
    band_steps : int, optional
        Number of time steps (≥ 1) the band energies are summed in, those of the track's
        time series when it has one; default the steps of the 100 Hz series. The band
        levels do not depend on it.

    Returns
    -------
    dict
        Medians over frames of `spectral_flatness` (0 .. 1), `spectral_flux` (0 .. 10),
        `spectral_skewness` and `spectral_kurtosis` (no unit: moments over the bin index);
        `saturation_ratio` (share of the duration at ≥ 0.95 full scale, 0 .. 1) and
        `saturation_count` (≥ 0 regions); `rms_energy_bass`, `_body`, `_mid`, `_air`
        in dBFS, -60 .. 0 (floor -60), of the bands 20-120, 120-600, 600-2500 and
        2500-22000 Hz.
    """
    from mir.spectral import multiband_rms, saturation, spectral_features

    shape = spectral_features(audio)
    if silent(audio):
        shape = {k: Undefined(f"{SILENCE}: no spectrum") for k in shape}
    return {
        **shape,
        **saturation(audio.samples, sr=audio.sr),
        **multiband_rms(audio, n_steps=band_steps),
    }


#: the values of the key, undefined together
KEY_KEYS = ("tonic", "tonic_strength", "tonic_scale", "key_confidence", "key_source")
#: a key is read from at least this many seconds of pitched HPCP frames (what the key
#: network reads at the least)
KEY_MIN_SECONDS = 2.0
#: a key's scale shows in its mean HPCP (the strongest bin 1) as three pitch classes of
#: at least this strength (a triad) ...
KEY_MIN_TRIAD = 0.2
#: ... above pitch classes that stay weak: the weakest four average at most this (music
#: 0.0-0.25, a drum kit 0.3-0.4; white noise, whose every class is as strong, 0.55)
KEY_MAX_FLOOR = 0.45


def key_evidence(frames: np.ndarray, *, hop_s: float) -> str | None:
    """Why the HPCP `frames` (A-based, shape (frames, 12), one every `hop_s` s) name no
    key, or None when they do: digital silence; under :data:`KEY_MIN_SECONDS` of pitched
    frames (a click, a short file); fewer than three pitch classes (a sine, DC, a square
    wave: one note and its harmonics); every pitch class as strong (noise)."""
    sounding = frames.max(axis=1) > 0 if frames.size else np.zeros(0, bool)
    if not sounding.any():
        return f"{SILENCE} or no pitched sound: the HPCP is empty"
    seconds = float(sounding.sum()) * hop_s
    if seconds < KEY_MIN_SECONDS:
        return f"{seconds:.2f} s of pitched sound: a key needs {KEY_MIN_SECONDS:g} s"
    mean = frames[sounding].mean(axis=0)
    profile = np.sort(mean / mean.max())[::-1]
    if profile[2] < KEY_MIN_TRIAD:
        return (
            f"{int((profile >= KEY_MIN_TRIAD).sum())} pitch class(es) sound: a key needs a "
            "triad (a single tone and its harmonics name no key)"
        )
    if profile[-4:].mean() > KEY_MAX_FLOOR:
        return "every pitch class sounds as strongly (noise): no scale"
    return None


def key_values(
    y: np.ndarray, frames: np.ndarray, *, cnn: np.ndarray | None = None, chords=None
) -> dict:
    """:func:`mir.harmonic.harmonic_features` of the 44.1 kHz mono `y`, its HPCP
    `frames`, (when already computed) its key network's probabilities `cnn` and its
    recognised `chords`, with the key undefined where the pitch content names none
    (:func:`key_evidence`), and the HPCP and TIV where there is no pitched sound."""
    from mir.harmonic import harmonic_features
    from mir.intermediates import SR

    values = harmonic_features(y, frames=frames, cnn=cnn, chords=chords)
    why = key_evidence(frames, hop_s=2048 / SR)
    if why is not None:
        values.update({k: Undefined(why) for k in KEY_KEYS})
        if not frames.any():  # no HPCP at all: its bins and their TIV are not zeros
            values.update({k: Undefined(why) for k in values if k.startswith(("hpcp_", "tiv_"))})
    return values


def harmonic_of(audio: Audio, stems: dict[str, Audio] | None = None) -> dict:
    """Chroma, HPCP, TIV and the key of the mix, or of the bass and other stems when
    given (`harmonic_source` says which): :func:`key_values`, and the chroma, undefined
    where the constant-Q spectrum is empty.

    Parameters
    ----------
    audio : Audio
        The decoded mix.
    stems : dict, optional
        `{stem name: Audio}`; with both `bass` and `other`, their sum (normalised to a
        0.95 peak) is analysed instead of the mix.

    Returns
    -------
    dict
        `chroma_0` .. `chroma_11`: mean CQT chroma per pitch class from C, 0 .. 1,
        summing to 1; `hpcp_0` .. `hpcp_11`: mean HPCP, 0 .. 1 (the strongest bin 1);
        `tiv_0` .. `tiv_11`: the tonal interval vector, -1 .. 1; `tonic`: pitch class,
        C = 0 .. B = 11; `tonic_strength` and `key_confidence`, 0 .. 1; `tonic_scale`
        (major or minor), `key_source` and `harmonic_source` (`full_mix` or
        `bass+other`) text. The key where the pitch content names none is
        :class:`~mir.family.Undefined` (:func:`key_evidence`).
    """
    from mir.chords import CHORDS_MIN_S, chords_of
    from mir.harmonic import (
        chroma_features,
        estimate_tuning,
        harmonic_input,
        hpcp_frames,
        hpcp_of,
        key_cnn_rows_of,
    )
    from mir.intermediates import stft_magnitude

    y, source = harmonic_input(audio, stems)
    # the mix's tuning and HPCP are its shared ones; a stem sum has its own
    mix = source == "full_mix"
    chroma = chroma_features(y, tuning=estimate_tuning(stft_magnitude(audio)) if mix else None)
    if not any(chroma.values()):
        chroma = {k: Undefined("no pitched sound: the chroma is empty") for k in chroma}
    # the tonic chord is read from the mix's recognised chords (those of the `chords`
    # family, computed once per track)
    chords = chords_of(audio) if audio.duration_s >= CHORDS_MIN_S else None
    if mix:
        rows = key_cnn_rows_of(audio)
        cnn = None if rows is None else rows.probabilities()
        values = key_values(y, hpcp_of(audio), cnn=cnn, chords=chords)
    else:
        values = key_values(y, hpcp_frames(y), chords=chords)
    return {
        **chroma,
        **values,
        "harmonic_source": source,
    }


def timbral_of(audio: Audio, *, max_seconds: float = 0.0) -> dict:
    """The eight Audio Commons ratings (:mod:`mir.timbral`) of the whole track, or, if
    `max_seconds` > 0, of that many seconds from its middle (an analysis window; the
    excerpt is an `Audio` of its own, so what it caches stays with it).

    Parameters
    ----------
    audio : Audio
        The decoded mix.
    max_seconds : float
        Seconds (≥ 0) from the middle of the track to rate; 0 (the default), or a
        length at least the track's, rates all of it (`timbral.max_seconds`).

    Returns
    -------
    dict
        `brightness`, `roughness`, `hardness`, `depth`, `booming`, `sharpness` and
        `warmth`: Audio Commons ratings, 0 .. 100 (no unit); `reverberation`: the
        probability of reverberant content in %, 0 .. 100.
    """
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

    Parameters
    ----------
    track_dir : path-like
        The track's folder in the library.
    values : dict or None
        The track's stored `beat_grid` values (`beat_count`, `downbeat_count` are read);
        None when the asset has none for it.

    Returns
    -------
    beats, downbeats : np.ndarray
        Times in seconds (≥ 0), as the files hold them; `downbeats` empty when the
        tracker found no bars.

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


@analysable
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


@analysable
def rhythm_features(track: Track) -> dict:
    """Onsets of the mix (written as `.ONSETS`) and their rhythm against the beat grid."""
    from mir.intermediates import onset_times
    from mir.rhythm import rhythm_features as rhythm_of

    values = rhythm_of(track.audio, beats=_beats(track, "rhythm_features"))
    if track.out_dir is not None:
        from mir.info import sidecar_path, write_times

        write_times(sidecar_path(track.out_dir, ONSETS), onset_times(track.audio))
    return values


@analysable
def stem_rhythm(track: Track) -> dict:
    from mir.families import RHYTHM_STEMS
    from mir.rhythm import stem_rhythm as one

    beats = _beats(track, "stem_rhythm")
    out: dict = {}
    for name in RHYTHM_STEMS:
        out.update(one(track.stems[name], beats=beats, name=name))
    return out


@analysable
def loudness(track: Track) -> dict:
    return loudness_of(track.audio, lra_window_s=track.config.loudness.lra_window_s)


@analysable
def stem_loudness(track: Track) -> dict:
    from mir.families import STEMS

    out = {}
    for name in STEMS:
        values = loudness_of(track.stems[name], lra_window_s=track.config.loudness.lra_window_s)
        out[f"lufs_{name}"], out[f"lra_{name}"] = values["lufs"], values["lra"]
    return out


@analysable
def spectral_features(track: Track) -> dict:
    return spectral_of(track.audio)


@analysable
def harmonic_features(track: Track) -> dict:
    return harmonic_of(track.audio, track.stems)


@analysable
def stem_harmonic(track: Track) -> dict:
    from mir.families import HARMONIC_STEMS
    from mir.harmonic import stem_harmonic as one

    out: dict = {}
    for name in HARMONIC_STEMS:
        stem = track.stems[name]
        values = one(stem, name=name)
        if silent(stem):  # no chroma moves or varies: not a motion of 0
            values = {k: Undefined(f"{SILENCE}: the {name} stem is silent") for k in values}
        out.update(values)
    return out


@analysable
def chords(track: Track) -> dict:
    """Chord segments (written as `.CHORDS`) and their statistics."""
    from mir.chords import chord_features, chords_of, write_chords

    segments = chords_of(track.audio, model=track.config.chords.model)
    if track.out_dir is not None:
        from mir.info import sidecar_path

        write_chords(sidecar_path(track.out_dir, CHORDS), segments)
    return chord_features(segments, track.audio.duration_s)


@analysable
def timbral_features(track: Track) -> dict:
    return timbral_of(track.audio, max_seconds=track.config.timbral.max_seconds)


# -- the whole analysis -----------------------------------------------------------------


@dataclass
class TrackAnalysis:
    """Everything `mir analyze` computes for one file.

    Attributes
    ----------
    values : dict
        `{key: value}` of every family that ran, as stored (undefined values None, their
        reasons under `<family>_undefined`).
    track : Track or None
        The track the families read (its beats and downbeats set by `beat_grid`).
    seconds : dict
        `{family: wall time in seconds}` (≥ 0) of each family that ran.
    skipped : dict
        `{family: why}` of the families that did not run (stems not given).
    """

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

    Parameters
    ----------
    audio : Audio
        The decoded mix.
    cfg : MasterConfig
        The pipeline configuration.
    stems : dict, optional
        `{stem name: Audio}` of the stems separated before, if any.
    out_dir : path-like, optional
        The folder for the sidecar files; None writes none.
    families : iterable of Family, optional
        The families to choose from (default the built-in ones); those with a computation
        and no model run, in this order.
    progress : callable, optional
        Called with each family's name before it runs.

    Returns
    -------
    TrackAnalysis
        The values, the time each family took, and the families skipped.

    Raises
    ------
    AudioError
        The mix or a stem shorter than :data:`mir.audio.SHORTEST_ANALYSIS_S` (46 ms).
    """
    from mir.audio import check_duration

    for one in (audio, *(stems or {}).values()):
        check_duration(one.path or "<audio>", one.n_samples, one.sr)
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

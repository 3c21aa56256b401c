"""Rhythm features: onsets, syncopation, complexity, evenness, tempo estimators, and the
choice of a track's tempo from all of them (:func:`choose_tempo`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.stats

from mir.audio import Audio
from mir.beats import BeatGrid
from mir.intermediates import (
    HOP,
    N_FFT,
    SR,
    mono44,
    onset_envelope,
    onset_frames,
    onset_times,
    stft_magnitude,
)

#: an onset within this many seconds of a beat is on the beat
ON_BEAT_TOLERANCE_S = 0.070


def _distance_to_nearest(times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    if grid.size == 0:
        return np.full(times.shape, np.inf)
    idx = (
        np.clip(np.searchsorted(grid, times), 1, grid.size - 1)
        if grid.size > 1
        else np.zeros(times.size, int)
    )
    left = np.abs(times - grid[np.maximum(idx - 1, 0)])
    right = np.abs(times - grid[idx])
    return np.minimum(left, right)


def ioi_complexity(onsets: np.ndarray) -> dict[str, float]:
    """Complexity and evenness of inter-onset intervals (the original's formulas).

    `rhythmic_complexity` = mean of (IOI-histogram entropy / 5, capped 1) and
    (IOI coefficient of variation / 2, capped 1); `rhythmic_evenness` = 1 / (1 + CV).
    """
    iois = np.diff(np.sort(onsets))
    if iois.size < 2 or iois.mean() <= 0:
        return {
            "rhythmic_complexity": 0.0,
            "rhythmic_evenness": 1.0,
            "ioi_mean": float(iois.mean()) if iois.size else 0.0,
            "ioi_std": 0.0,
        }
    # perfectly even onsets (a click track) have IOIs equal to float rounding: one bin
    spread = float(iois.max() - iois.min())
    hist = np.histogram(iois, bins=50)[0] if spread > 1e-9 * iois.mean() else np.array([iois.size])
    entropy = float(scipy.stats.entropy(hist + 0.0)) if hist.sum() else 0.0
    cv = float(iois.std() / iois.mean())
    return {
        "rhythmic_complexity": round(
            float(np.mean([min(entropy / 5.0, 1.0), min(cv / 2.0, 1.0)])), 4
        ),
        "rhythmic_evenness": round(1.0 / (1.0 + cv), 4),
        "ioi_mean": round(float(iois.mean()), 4),
        "ioi_std": round(float(iois.std()), 4),
    }


def syncopation(onsets: np.ndarray, beats: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Share of onsets (or of onset strength, with `weights`) farther than 70 ms from every beat.

    0 = every onset on a beat, 1 = every onset off the beats.
    """
    if onsets.size == 0:
        return 0.0
    off = _distance_to_nearest(onsets, np.sort(beats)) > ON_BEAT_TOLERANCE_S
    if weights is None:
        return round(float(off.mean()), 4)
    total = float(weights.sum())
    return round(float(weights[off].sum() / total), 4) if total > 0 else 0.0


def rhythm_features(audio: Audio, *, beats: np.ndarray) -> dict[str, float]:
    """Onset statistics and beat-relative rhythm of the full mix.

    Returns `onset_count`, `onset_density` (1/s), `onset_strength_mean/std` (envelope at
    the onset peaks), `syncopation`, `on_beat_ratio` (0-1), `rhythmic_complexity`,
    `rhythmic_evenness` (0-1), `ioi_mean`, `ioi_std` (s).
    """
    env = onset_envelope(audio)
    peaks, _ = onset_frames(audio)
    times = onset_times(audio)
    strengths = env[peaks] if peaks.size else np.zeros(0)
    sync = syncopation(times, beats)
    out = {
        "onset_count": int(times.size),
        "onset_density": round(times.size / audio.duration_s, 4),
        "onset_strength_mean": round(float(strengths.mean()), 4) if strengths.size else 0.0,
        "onset_strength_std": round(float(strengths.std()), 4) if strengths.size else 0.0,
        "syncopation": sync,
        "on_beat_ratio": round(1.0 - sync, 4) if times.size else 0.0,
    }
    out.update(ioi_complexity(times))
    return out


def bpm_madmom(beat_activation: np.ndarray, *, fps: int = 100) -> float:
    """Strongest tempo of madmom's TempoEstimationProcessor on a beat activation (BPM)."""
    from mir._madmom import import_madmom

    madmom = import_madmom()
    if beat_activation.size < fps or beat_activation.max() <= 0:
        return 0.0
    tempi = madmom.features.tempo.TempoEstimationProcessor(fps=fps)(
        beat_activation.astype(np.float32)
    )
    return round(float(tempi[0, 0]), 2) if len(tempi) else 0.0


def bpm_essentia(audio: Audio) -> float:
    """Essentia RhythmExtractor2013 (multifeature) tempo on 44.1 kHz mono, in BPM."""
    import essentia.standard as es

    y = mono44(audio)
    if y.size < SR:
        return 0.0
    return round(float(es.RhythmExtractor2013(method="multifeature")(y)[0]), 2)


def resolve_tempo_octave(grid_bpm: float, estimates: list[float]) -> float:
    """Choose the tempo octave of the beat grid's BPM using every estimate at hand.

    Candidates are the grid tempo and its half and double. Each gets a vote from every
    estimator (madmom's tempo histogram, Essentia's) that agrees within 4 %, plus a
    log-normal prior centred on 115 BPM (where annotated tempi of popular music cluster)
    to break ties. A grid tempo that one or more estimators confirm is kept.
    """
    if grid_bpm <= 0:
        valid = [e for e in estimates if e > 0]
        return round(float(np.median(valid)), 2) if valid else 0.0
    best, best_score = grid_bpm, -np.inf
    for factor in (1.0, 0.5, 2.0, 2.0 / 3.0, 1.5):
        cand = grid_bpm * factor
        if not 40.0 <= cand <= 250.0:
            continue
        votes = sum(1 for e in estimates if e > 0 and _same_tempo(e, cand))
        prior = float(np.exp(-0.5 * (np.log2(cand / 115.0) / 0.55) ** 2))
        score = votes + 0.9 * prior + (0.6 if factor == 1.0 else 0.0)
        if score > best_score:
            best, best_score = cand, score
    return round(float(best), 2)


#: two tempi agree when they are within this fraction of each other (mir_eval's Acc1)
TEMPO_TOLERANCE = 0.04
#: two tempo estimates support each other in :func:`choose_tempo` when they are within
#: this fraction (at the same octave, double or half): tighter than mir_eval's 4 %, so that
#: a grid that lost a beat in 25 (134 against 139.5 and 139.9) is not counted as agreeing
AGREEMENT_TOLERANCE = 0.025
#: the tempo sources of :func:`choose_tempo`, in the order that breaks ties
TEMPO_SOURCES = ("grid", "madmom", "essentia")
#: a pulse's half-beats are as strong as its beats when the median onset strength at the
#: half-beats is at least this share of the median at the beats (see :func:`half_beat_ratio`)
HALF_BEAT_RATIO = 0.85
#: a tempo above this is only kept when its every other beat is as strong as the others
FAST_BPM = 160.0
#: the octave evidence reads onsets below this frequency: kick, snare, bass and chords,
#: not the hats and cymbals that play the subdivisions
BACKBEAT_MAX_HZ = 4000.0


def _same_tempo(a: float, b: float, tolerance: float = TEMPO_TOLERANCE) -> bool:
    return abs(a - b) / b < tolerance


def _same_tempo_class(a: float, b: float) -> bool:
    """`a` and `b` agree within :data:`AGREEMENT_TOLERANCE` at the same octave, or at
    double or half."""
    return any(_same_tempo(a, b * f, AGREEMENT_TOLERANCE) for f in (1.0, 0.5, 2.0))


@dataclass(frozen=True)
class TempoChoice:
    """A track's tempo and where it came from.

    Attributes
    ----------
    bpm : float
        The tempo in BPM (0 when no source has one).
    source : str
        The sources that agree on it up to an octave, joined by "+" in the order of
        :data:`TEMPO_SOURCES` (e.g. "grid+madmom+essentia", "madmom+essentia"); "none".
    confidence : float
        0-1: the share of sources that agree up to an octave, times 1 when the octave is
        confirmed (by the metrical evidence, or by every agreeing source) down to 0.5
        when nothing but the prior chose it.
    """

    bpm: float
    source: str
    confidence: float


def choose_tempo(
    estimates: dict[str, float],
    *,
    half_beats: Callable[[float], float | None] | None = None,
    min_bpm: float = 55.0,
    max_bpm: float = 215.0,
) -> TempoChoice:
    """The tempo of a track from every estimate of it, and the octave from its onsets.

    The rules, in order:

    1. **Consensus.** Every source with an estimate (> 0) supports each source it agrees
       with within :data:`AGREEMENT_TOLERANCE` (2.5 %), at the same octave or at double
       or half. The source with the
       most support wins, ties going to the earlier of :data:`TEMPO_SOURCES` (the beat
       grid first); the winner and the sources that agree with it form the consensus.
       A beat grid that dropped or gained beats therefore cannot outvote two estimators
       that agree with each other. The consensus tempo is the grid's when the grid is
       part of it (its mean inter-beat interval is the most precise), else the mean of
       the agreeing estimators (folded to the first one's octave).
    2. **Octave by votes.** :func:`resolve_tempo_octave` on the consensus tempo with the
       agreeing sources' estimates: half, double, 2/3 and 3/2 compete with votes and a
       log-normal prior centred on 115 BPM.
    3. **Octave by the metrical level.** `half_beats(bpm)` is the onset strength at the
       half-beats of a pulse at `bpm` over that at its beats (:func:`half_beat_ratio`),
       or None where it cannot be measured. A pulse whose half-beats are as strong as
       its beats (ratio >= :data:`HALF_BEAT_RATIO`: a backbeat, kick and snare
       alternating on the half-beats) is the half of the real beat: the tempo doubles
       (up to `max_bpm`). A tempo above :data:`FAST_BPM` whose every other beat is
       weaker (the ratio of its half is below the threshold: hats or a fast tatum) halves
       (down to `min_bpm`). So drum and bass at 174 and punk at 190 are not halved by
       estimators that all say 87 or 95, and a half-time groove at 76 is not doubled.
       Between `min_bpm` and :data:`FAST_BPM` nothing is halved: a half-time pattern at
       140 (dubstep) is 140 by convention, and a slow level that the evidence does not
       double stays where the votes put it.

    Parameters
    ----------
    estimates : dict
        BPM per source name (:data:`TEMPO_SOURCES`; others rank after them); 0 = none.
    half_beats : callable, optional
        The half-beat ratio of a pulse at a given BPM; without it rule 3 is skipped.
    min_bpm, max_bpm : float
        The range rule 3 may move the tempo into (the beat tracker's).
    """
    valid = {k: float(v) for k, v in estimates.items() if v and v > 0}
    if not valid:
        return TempoChoice(0.0, "none", 0.0)
    order = [k for k in TEMPO_SOURCES if k in valid] + sorted(set(valid) - set(TEMPO_SOURCES))
    support = {k: sum(_same_tempo_class(valid[k], valid[o]) for o in order) for k in order}
    winner = max(order, key=lambda k: support[k])  # max keeps the first of equals
    cluster = [k for k in order if _same_tempo_class(valid[k], valid[winner])]
    if "grid" in cluster:
        reference = valid["grid"]
    else:
        first = valid[cluster[0]]
        folded = [
            valid[k] * min((1.0, 0.5, 2.0), key=lambda f: abs(np.log2(valid[k] * f / first)))
            for k in cluster
        ]
        reference = float(np.mean(folded))
    bpm = resolve_tempo_octave(reference, [valid[k] for k in cluster if k != "grid"])
    octave_by_evidence = False
    if half_beats is not None:
        ratio = half_beats(bpm)
        half_ratio = half_beats(bpm / 2.0)
        if ratio is not None and ratio >= HALF_BEAT_RATIO and bpm * 2.0 <= max_bpm:
            bpm, octave_by_evidence = bpm * 2.0, True
        elif (
            bpm > FAST_BPM
            and half_ratio is not None
            and half_ratio < HALF_BEAT_RATIO
            and bpm / 2.0 >= min_bpm
        ):
            bpm, octave_by_evidence = bpm / 2.0, True
        else:
            # the level stays; the evidence confirms it when its own beats are evenly
            # strong and its half-beats are not
            octave_by_evidence = (
                half_ratio is not None
                and half_ratio >= HALF_BEAT_RATIO
                and (ratio is None or ratio < HALF_BEAT_RATIO)
            )
    agreement = len(cluster) / len(valid)
    at_octave = sum(_same_tempo(valid[k], bpm) for k in cluster) / len(cluster)
    octave = 1.0 if octave_by_evidence else at_octave
    return TempoChoice(
        bpm=round(float(bpm), 2),
        source="+".join(cluster),
        confidence=round(agreement * (0.5 + 0.5 * octave), 3),
    )


@functools.cache
def _backbeat_mel(sr: int = SR) -> np.ndarray:
    """A 64-band mel filterbank up to :data:`BACKBEAT_MAX_HZ` over the shared STFT's bins."""
    import librosa

    mel = librosa.filters.mel(sr=sr, n_fft=N_FFT, n_mels=64, fmax=BACKBEAT_MAX_HZ)
    last = int(np.flatnonzero(mel.any(axis=0)).max()) + 1
    return mel[:, :last].astype(np.float32)


def backbeat_envelope(audio: Audio) -> np.ndarray:
    """Spectral-flux onset strength below :data:`BACKBEAT_MAX_HZ`, from the shared STFT
    (librosa's onset strength on a 64-band mel spectrogram up to 4 kHz), hop 512 at
    44.1 kHz; computed once per track."""

    def compute() -> np.ndarray:
        import librosa

        mag = stft_magnitude(audio)
        mel = _backbeat_mel()
        power = mel @ np.square(mag[: mel.shape[1]])
        return librosa.onset.onset_strength(
            S=librosa.power_to_db(power, ref=np.max), sr=SR, hop_length=HOP
        )

    return audio.cached("backbeat_envelope", compute)


def half_beat_ratio(
    envelope: np.ndarray,
    beats: np.ndarray,
    *,
    level: float = 1.0,
    positions: np.ndarray | None = None,
    fps: float = SR / HOP,
    window_s: float = 0.035,
) -> float | None:
    """Median onset strength at the half-beats of a pulse over the median at its beats.

    The pulse is the beat grid (`level` 1), twice as fast (2: the grid's beats and their
    midpoints) or half as fast (0.5: every other beat, starting on the downbeats when
    `positions` are known, else on the stronger half). Strength is the envelope's maximum
    within `window_s` of each time. About 1 when the half-beats are as strong as the beats;
    None for fewer than 8 beats, a 3-beat bar at `level` 0.5, or a silent envelope.
    """
    beats = np.asarray(beats, dtype=float)
    if beats.size < 8 or envelope.size == 0:
        return None
    peaks = scipy.ndimage.maximum_filter1d(envelope, size=2 * int(round(window_s * fps)) + 1)

    def strength(times: np.ndarray) -> np.ndarray:
        return peaks[np.clip(np.round(times * fps).astype(int), 0, peaks.size - 1)]

    mids = (beats[1:] + beats[:-1]) / 2.0
    if level == 2.0:
        quarters = np.sort(np.r_[beats, mids])
        on, off = quarters, (quarters[1:] + quarters[:-1]) / 2.0
    elif level == 1.0:
        on, off = beats, mids
    elif level == 0.5:
        if positions is not None and positions.size == beats.size and positions.max() > 0:
            if positions.max() % 2:  # an odd bar: alternate beats are not a pulse
                return None
            first = positions % 2 == 1
        else:
            first = np.arange(beats.size) % 2 == 0
            if np.median(strength(beats[first])) < np.median(strength(beats[~first])):
                first = ~first
        on, off = beats[first], beats[~first]
    else:
        raise ValueError(f"level must be 0.5, 1 or 2, not {level}")
    base = float(np.median(strength(on)))
    return float(np.median(strength(off)) / base) if base > 0 else None


#: a grid re-tracked at a chosen tempo may vary this much around it
RETRACK_SPREAD = 0.08


def retrack_at_tempo(grid: BeatGrid, bpm: float, *, beats_per_bar: tuple[int, ...]) -> BeatGrid:
    """The grid's activations decoded again by madmom's bar-pointer DBN, with the tempo
    held within :data:`RETRACK_SPREAD` of `bpm`: the beats and bars of the chosen tempo,
    from the network output already computed (no second network pass; the narrow tempo
    range makes this decoding a fraction of the first). Returns `grid` unchanged when it
    has no activations (librosa) or the decoding finds no beats."""
    from mir._madmom import import_madmom
    from mir.beats import _decode_downbeats, compiled_dbn

    if grid.tracker != "madmom" or grid.downbeat_activation.size == 0 or bpm <= 0:
        return grid
    madmom = import_madmom()
    dbn = compiled_dbn(
        madmom.features.downbeats.DBNDownBeatTrackingProcessor(
            beats_per_bar=list(beats_per_bar),
            min_bpm=bpm * (1.0 - RETRACK_SPREAD),
            max_bpm=bpm * (1.0 + RETRACK_SPREAD),
            fps=grid.fps,
        )
    )
    act = np.stack(
        [grid.activation - grid.downbeat_activation, grid.downbeat_activation], axis=1
    ).astype(np.float32)
    result = np.asarray(_decode_downbeats(dbn, np.clip(act, 0.0, 1.0)), dtype=float)
    result = result.reshape(-1, 2)
    if result.shape[0] < 2:
        return grid
    beats, positions = result[:, 0], result[:, 1].astype(int)
    return BeatGrid(
        beats=beats,
        downbeats=beats[positions == 1],
        positions=positions,
        activation=grid.activation,
        fps=grid.fps,
        tracker=grid.tracker,
        downbeat_activation=grid.downbeat_activation,
    )


def stem_rhythm(stem: Audio, *, beats: np.ndarray, name: str) -> dict[str, float]:
    """Per-stem rhythm: onset density over 4 s windows (2 s hop), strength-weighted syncopation,
    complexity and evenness, keyed `<feature>_<name>`."""
    env = onset_envelope(stem)
    peaks, _ = onset_frames(stem)
    times = onset_times(stem)
    duration = stem.duration_s
    starts = np.arange(0.0, max(duration - 4.0, 0.0) + 1e-9, 2.0)
    # onsets in [s, s + 4): two binary searches per window, not a scan of every onset
    counts = np.searchsorted(times, starts + 4.0, "left") - np.searchsorted(times, starts, "left")
    densities = counts / 4.0 if starts.size else np.zeros(1)
    weights = env[peaks] if peaks.size else np.zeros(0)
    cx = ioi_complexity(times)
    return {
        f"onset_density_average_{name}": round(float(densities.mean()), 4),
        f"onset_density_variance_{name}": round(float(densities.var()), 4),
        f"syncopation_{name}": syncopation(times, beats, weights=weights),
        f"rhythmic_complexity_{name}": cx["rhythmic_complexity"],
        f"rhythmic_evenness_{name}": cx["rhythmic_evenness"],
    }

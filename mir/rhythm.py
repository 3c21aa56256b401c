"""Rhythm features: onsets, syncopation, complexity, evenness, tempo estimators, and the
choice of a track's tempo from all of them (:func:`choose_tempo`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.stats

from mir.audio import Audio
from mir.beats import BeatGrid
from mir.family import Undefined
from mir.intermediates import (
    HOP,
    N_FFT,
    SR,
    STFT_BLOCK_FRAMES,
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


#: why a value read from onsets is undefined when there are none
NO_ONSETS = "no onsets in the audio"
#: why a value read against the beats is undefined without them
NO_BEATS = "no beat grid (the track has no tempo)"


def ioi_complexity(onsets: np.ndarray) -> dict[str, float | Undefined]:
    """Complexity and evenness of inter-onset intervals (the original's formulas).

    `rhythmic_complexity` = mean of (IOI-histogram entropy / 5, capped 1) and
    (IOI coefficient of variation / 2, capped 1); `rhythmic_evenness` = 1 / (1 + CV);
    `ioi_mean`, `ioi_std` in s. All four are :class:`~mir.family.Undefined` with fewer
    than two onsets (no interval).
    """
    iois = np.diff(np.sort(onsets))
    if iois.size == 0 or iois.mean() <= 0:
        why = Undefined(NO_ONSETS if onsets.size == 0 else "fewer than two onsets: no interval")
        return {k: why for k in ("rhythmic_complexity", "rhythmic_evenness", "ioi_mean", "ioi_std")}
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


def syncopation(
    onsets: np.ndarray, beats: np.ndarray, weights: np.ndarray | None = None
) -> float | Undefined:
    """Share of onsets (or of onset strength, with `weights`) farther than 70 ms from every beat.

    0 = every onset on a beat, 1 = every onset off the beats; :class:`~mir.family.Undefined`
    without onsets (or onset strength) or without beats.
    """
    if onsets.size == 0:
        return Undefined(NO_ONSETS)
    if np.size(beats) == 0:
        return Undefined(NO_BEATS)
    off = _distance_to_nearest(onsets, np.sort(beats)) > ON_BEAT_TOLERANCE_S
    if weights is None:
        return round(float(off.mean()), 4)
    total = float(weights.sum())
    if total <= 0:
        return Undefined("the onsets have no strength")
    return round(float(weights[off].sum() / total), 4)


def rhythm_features(audio: Audio, *, beats: np.ndarray) -> dict[str, float | Undefined]:
    """Onset statistics and beat-relative rhythm of the full mix.

    Returns `onset_count`, `onset_density` (1/s), `onset_strength_mean/std` (envelope at
    the onset peaks), `syncopation`, `on_beat_ratio` (0-1), `rhythmic_complexity`,
    `rhythmic_evenness` (0-1), `ioi_mean`, `ioi_std` (s). What does not exist for the
    audio (the strength of onsets when there are none, the syncopation of a track
    without beats) is :class:`~mir.family.Undefined`.
    """
    env = onset_envelope(audio)
    peaks, _ = onset_frames(audio)
    times = onset_times(audio)
    strengths = env[peaks] if peaks.size else np.zeros(0)
    sync = syncopation(times, beats)
    out = {
        "onset_count": int(times.size),
        "onset_density": round(times.size / audio.duration_s, 4),
        "onset_strength_mean": round(float(strengths.mean()), 4)
        if strengths.size
        else Undefined(NO_ONSETS),
        "onset_strength_std": round(float(strengths.std()), 4)
        if strengths.size
        else Undefined(NO_ONSETS),
        "syncopation": sync,
        "on_beat_ratio": sync if isinstance(sync, Undefined) else round(1.0 - sync, 4),
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
#: the snare band in Hz: a snare's noise, above the kick and the bass and below most of
#: the cymbals' energy
SNARE_BAND_HZ = (1500.0, 5000.0)
#: the kick and bass band in Hz
KICK_BAND_HZ = (0.0, 150.0)
#: the snare pattern moves the tempo to another level when its comb (the beats it falls
#: on, every 2, 4 or 8 beats) is this much stronger than the other beats, and stronger
#: than every comb of the grid's own level (a backbeat) ...
SNARE_DECIDES = 1.3
#: ... and confirms the grid's level (a backbeat on alternate beats) from this contrast
SNARE_CONFIRMS = 1.15
#: the snare falls on the half-beats when the strongest half-beat slot is this much
#: stronger than the strongest beat
SNARE_ON_HALF_BEATS = 1.15
#: a drum pattern repeats every two of the grid's bars, not every bar, when the mean
#: absolute difference of its two bars (kick and snare, beats and half-beats) is at least
#: this share of their mean: the grid's bar is half the music's (a half-time groove read
#: at twice its tempo)
BAR_DIFFERENCE = 0.35
#: the beat network pulses at half the grid's tempo when its activation's autocorrelation
#: at the grid's beat period is below this share of that at two beats
NETWORK_HALF_PERIODICITY = 0.5
#: the downbeat network's bars are twice the grid's when the grid's alternate bars get
#: below this share of the other bars' downbeat activation
NETWORK_BAR_ALTERNATION = 0.5
#: the beat network pulses at twice the grid's tempo when its activation at the half-beats
#: is at least this share of that at the beats
NETWORK_DOUBLE_ACTIVATION = 0.5


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
        0-1: the share of sources that agree up to an octave, times 1 when the drums
        chose or confirmed the octave (or every agreeing source is at it) down to 0.5
        when nothing but the prior chose it.
    level : str
        What chose the metrical level: "drums", "networks", "sources" or "prior".
    """

    bpm: float
    source: str
    confidence: float
    level: str = "sources"


@dataclass(frozen=True)
class MetricalEvidence:
    """What the drums and the networks say about the metrical level of a beat grid, each
    as the factor of the grid's tempo it points to (2: twice as fast, 0.5: half), or None
    where it says nothing.

    Attributes
    ----------
    grid_bpm : float
        The grid's tempo (60 / its median inter-beat interval).
    drums : float or None
        Where the snare falls (:func:`snare_level`): on the half-beats (2), on alternate
        beats (1: a backbeat), on every 4th or 8th beat (the level at which it is a
        backbeat, or where that is slower than the range, a half-time groove).
    snare_contrast : float
        The strength of the snare's comb over the other beats (1: no pattern).
    beat_network : float or None
        The beat activation's own periodicity: 0.5 when it pulses at half the grid's
        tempo, 2 when it is as strong at the half-beats, else 1.
    downbeat_network : float or None
        Bar-level regularity: 0.5 when the downbeat activation at the grid's bars
        alternates strong and weak (the network's bar is two of the grid's), else 1;
        None with fewer than 4 bars.
    reason : str
        The drums' reading in words.
    """

    grid_bpm: float
    drums: float | None = None
    snare_contrast: float = 1.0
    beat_network: float | None = None
    downbeat_network: float | None = None
    reason: str = ""


def tempo_consensus(estimates: dict[str, float]) -> tuple[float, list[str]]:
    """The consensus of the tempo sources: (its tempo up to an octave, the sources in it).

    Every source with an estimate (> 0) supports each source it agrees with within
    :data:`AGREEMENT_TOLERANCE` (2.5 %), at the same octave or at double or half. The
    source with the most support wins, ties going to the earlier of
    :data:`TEMPO_SOURCES` (the beat grid first); the winner and the sources that agree with
    it form the consensus. A beat grid that dropped or gained beats therefore cannot
    outvote two estimators that agree with each other. The tempo is the grid's when the
    grid is part of it (its mean inter-beat interval is the most precise), else the mean
    of the agreeing estimators (folded to the first one's octave). (0, []) without any
    estimate."""
    valid = {k: float(v) for k, v in estimates.items() if v and v > 0}
    if not valid:
        return 0.0, []
    order = [k for k in TEMPO_SOURCES if k in valid] + sorted(set(valid) - set(TEMPO_SOURCES))
    support = {k: sum(_same_tempo_class(valid[k], valid[o]) for o in order) for k in order}
    winner = max(order, key=lambda k: support[k])  # max keeps the first of equals
    cluster = [k for k in order if _same_tempo_class(valid[k], valid[winner])]
    if "grid" in cluster:
        return valid["grid"], cluster
    first = valid[cluster[0]]
    folded = [
        valid[k] * min((1.0, 0.5, 2.0), key=lambda f: abs(np.log2(valid[k] * f / first)))
        for k in cluster
    ]
    return float(np.mean(folded)), cluster


def choose_tempo(
    estimates: dict[str, float],
    *,
    evidence: MetricalEvidence | None = None,
    min_bpm: float = 55.0,
    max_bpm: float = 215.0,
) -> TempoChoice:
    """The tempo of a track from every estimate of it, its metrical level from evidence.

    1. **Consensus** (:func:`tempo_consensus`): the tempo up to an octave, and the
       sources that agree on it.
    2. **The level, when the beat grid is part of the consensus** and `evidence`
       describes it (the beat is the level at which the snare falls on alternate beats):

       a. *Drums.* The snare on the grid's half-beats doubles the grid's tempo; a snare
          on every 4th or 8th beat of the grid (a comb :data:`SNARE_DECIDES` times
          stronger than the other beats, and stronger than any backbeat comb) moves it
          to the level where the snare falls on alternate beats, or, where that is
          slower than `min_bpm`, to the level of a half-time groove (snare on 3). So
          drum and bass at 174 and punk at 190 stay where every estimator says 87 or
          95, a half-time groove at 68 is not read at 136, and eighth notes at 88 read
          as 176 by the grid return to 88. A backbeat on the grid's alternate beats
          (contrast :data:`SNARE_CONFIRMS`) confirms the grid's level.
       b. *Networks and sources*, where the drums say nothing (no drums, a 3/4 bar):
          the grid's level moves to half or double only where every other source of the
          consensus sits there and the beat network's periodicity or the downbeat
          network's bars agree; else the grid's level stands (the bar-pointer decoding
          already weighs the bars).
    3. **Otherwise** (no grid in the consensus): :func:`resolve_tempo_octave`, votes of
       the sources at each octave and a prior centred on 115 BPM.

    Parameters
    ----------
    estimates : dict
        BPM per source name (:data:`TEMPO_SOURCES`; others rank after them); 0 = none.
    evidence : MetricalEvidence, optional
        About the grid of `estimates["grid"]`; without it rule 2 is skipped.
    min_bpm, max_bpm : float
        The range the level may move into (the beat tracker's).
    """
    valid = {k: float(v) for k, v in estimates.items() if v and v > 0}
    reference, cluster = tempo_consensus(valid)
    if not cluster:
        return TempoChoice(0.0, "none", 0.0, "none")
    others = [valid[k] for k in cluster if k != "grid"]
    level = "sources"
    if "grid" in cluster and evidence is not None:
        bpm, level = _grid_level(reference, others, evidence, min_bpm=min_bpm, max_bpm=max_bpm)
    else:
        bpm = resolve_tempo_octave(reference, others)
        if not any(_same_tempo(e, bpm) for e in others):
            level = "prior"
    agreement = len(cluster) / len(valid)
    at_octave = sum(_same_tempo(valid[k], bpm) for k in cluster) / len(cluster)
    octave = 1.0 if level == "drums" else at_octave
    return TempoChoice(
        bpm=round(float(bpm), 2),
        source="+".join(cluster),
        confidence=round(agreement * (0.5 + 0.5 * octave), 3),
        level=level,
    )


def _grid_level(
    grid_bpm: float,
    others: list[float],
    evidence: MetricalEvidence,
    *,
    min_bpm: float,
    max_bpm: float,
) -> tuple[float, str]:
    """Rule 2 of :func:`choose_tempo`: (the tempo, what chose it)."""
    if evidence.drums is not None:
        return grid_bpm * evidence.drums, "drums"
    for factor in (0.5, 2.0):
        target = grid_bpm * factor
        if not (min_bpm <= target <= max_bpm and others):
            continue
        sources = all(_same_tempo(e, target) for e in others)
        networks = factor in (evidence.beat_network, evidence.downbeat_network)
        if sources and networks:
            return target, "networks"
    return grid_bpm, "sources"


@functools.cache
def _band_filters(lo: float, hi: float, sr: int = SR) -> np.ndarray:
    """The rows of a 96-band mel filterbank (to 16 kHz, over the shared STFT's bins)
    whose centres lie in [lo, hi) Hz."""
    import librosa

    mel = librosa.filters.mel(sr=sr, n_fft=N_FFT, n_mels=96, fmax=16000.0)
    centres = librosa.mel_frequencies(n_mels=98, fmax=16000.0)[1:-1]
    return np.ascontiguousarray(mel[(centres >= lo) & (centres < hi)], dtype=np.float32)


def drum_envelopes(audio: Audio) -> dict[str, np.ndarray]:
    """Percussive onset strength of the kick and bass band (`"kick"`, :data:`KICK_BAND_HZ`)
    and of the snare band (`"snare"`, :data:`SNARE_BAND_HZ`), hop 512 at 44.1 kHz, from
    the shared STFT; computed once per track.

    Each band's mel power is split by median filtering (Fitzgerald's harmonic-percussive
    separation, 17 frames along time, 9 bands across): what is steady in time (held
    chords, the body of a strummed note) is dropped and what is short and broad (drum
    hits) is kept; its onset strength is the positive change of its level in dB (80 dB
    below the bands' maximum at the least), averaged over the band's mel bands."""

    def compute() -> dict[str, np.ndarray]:
        mag = stft_magnitude(audio)
        bands = {"kick": KICK_BAND_HZ, "snare": SNARE_BAND_HZ}
        power = {}
        for name, (lo, hi) in bands.items():
            fb = _band_filters(lo, hi)
            power[name] = np.concatenate(  # by blocks: no squared copy of the whole STFT
                [
                    fb @ np.square(mag[:, a : a + STFT_BLOCK_FRAMES])
                    for a in range(0, mag.shape[1], STFT_BLOCK_FRAMES)
                ],
                axis=1,
            )
        top = max(float(p.max()) for p in power.values())
        out = {}
        for name, p in power.items():
            harmonic = scipy.ndimage.median_filter(p, size=(1, 17), mode="nearest")
            across = min(9, p.shape[0])
            percussive = scipy.ndimage.median_filter(p, size=(across, 1), mode="nearest")
            kept = p * np.square(percussive) / (np.square(harmonic) + np.square(percussive) + 1e-20)
            db = 10.0 * np.log10(np.maximum(kept, top * 1e-8) / max(top, 1e-20))
            out[name] = np.maximum(0.0, np.diff(db, axis=1, prepend=db[:, :1])).mean(axis=0)
        return out

    return audio.cached("drum_envelopes", compute)


def _strength_at(envelope: np.ndarray, times: np.ndarray, *, window_s: float = 0.035) -> np.ndarray:
    fps = SR / HOP
    peaks = scipy.ndimage.maximum_filter1d(envelope, size=2 * int(round(window_s * fps)) + 1)
    return peaks[np.clip(np.round(np.asarray(times) * fps).astype(int), 0, peaks.size - 1)]


def bar_profile(envelope: np.ndarray, grid: BeatGrid) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean strength of `envelope` at each beat and each half-beat of two bars of the
    grid (the bars' positions from its downbeats; alternate bars apart): (beats, half-beats),
    each of 2 x beats-per-bar slots. None without bar positions or with fewer than two
    bars."""
    positions, beats = grid.positions, grid.beats
    if positions.size != beats.size or positions.size < 4 or positions.max() <= 0:
        return None
    per_bar = int(positions.max())
    bar = np.cumsum(positions == 1) - 1
    slot = (np.maximum(bar, 0) % 2) * per_bar + np.clip(positions, 1, per_bar) - 1
    on = _strength_at(envelope, beats)
    off = _strength_at(envelope, (beats[1:] + beats[:-1]) / 2.0)
    n = 2 * per_bar
    count = np.bincount(slot, minlength=n)
    half_count = np.bincount(slot[:-1], minlength=n)
    if (count == 0).any():
        return None
    return (
        np.bincount(slot, weights=on, minlength=n) / count,
        np.bincount(slot[:-1], weights=off, minlength=n) / np.maximum(half_count, 1),
    )


def _combs(slots: np.ndarray) -> list[tuple[float, int, int]]:
    """(contrast, period, phase) of every comb of alternate, every 4th and every 8th beat
    over `slots` (mean on the comb over mean elsewhere), the strongest first."""
    out = []
    for period in (2, 4, 8):
        if slots.size % period:
            continue
        for phase in range(period):
            on = np.zeros(slots.size, bool)
            on[phase::period] = True
            out.append((float(slots[on].mean() / max(slots[~on].mean(), 1e-12)), period, phase))
    return sorted(out, reverse=True)


def bar_difference(
    kick: tuple[np.ndarray, np.ndarray], snare: tuple[np.ndarray, np.ndarray]
) -> float:
    """How much the two bars of a drum pattern differ: the mean absolute difference of
    the first bar's and the second's strengths (kick and snare, each scaled to its
    maximum, beats and half-beats) over their mean. About 0.1 for a pattern that repeats
    every bar; 0.4 and more where it repeats every two."""
    rows = []
    for beats, halves in (kick, snare):
        top = max(float(beats.max()), float(halves.max()), 1e-12)
        rows.append(np.stack([beats, halves]) / top)
    both = np.concatenate(rows)
    half = both.shape[1] // 2
    first, second = both[:, :half], both[:, half:]
    return float(np.abs(first - second).mean() / max((first + second).mean() / 2.0, 1e-12))


def snare_level(
    kick: tuple[np.ndarray, np.ndarray],
    snare: tuple[np.ndarray, np.ndarray],
    *,
    grid_bpm: float,
    min_bpm: float,
    max_bpm: float,
) -> tuple[float | None, float, str]:
    """Where the snare falls on a grid, as the factor of the grid's tempo it points to:
    (factor or None, contrast, reason). `kick` and `snare`: :func:`bar_profile` of the
    two :func:`drum_envelopes`.

    The snare on the half-beats (the strongest half-beat :data:`SNARE_ON_HALF_BEATS` times
    the strongest beat) doubles the tempo. Otherwise the strongest comb of the snare over
    the beats of two bars (every 2, 4 or 8 beats; not the kick's own comb, which the band
    may hear) is the snare's period: 2 beats is a backbeat at the grid's level (1) from
    :data:`SNARE_CONFIRMS`; 4 or 8 beats (from :data:`SNARE_DECIDES`, beating every
    backbeat comb and the other half of the comb twice as dense; every 8 beats only where
    the two bars differ, :func:`bar_difference`) point to the level where the snare falls
    on alternate beats, or, slower than `min_bpm`, to the half-time level (snare on 3),
    or, slower still, to the grid's."""
    beats, halves = snare
    if halves.max() >= SNARE_ON_HALF_BEATS * beats.max():
        if grid_bpm * 2.0 <= max_bpm:
            return 2.0, float(halves.max() / beats.max()), "the snare falls on the half-beats"
        return None, 1.0, "the snare falls on the half-beats, twice the tempo is out of range"
    if beats.size % 4:
        return None, 1.0, "not a bar of 4: no backbeat to read"
    kick_comb = _combs(kick[0])[0][1:]
    combs = [c for c in _combs(beats) if c[1:] != kick_comb]
    contrast, period, phase = combs[0]
    backbeat = max(c for c, p, _ in combs if p == 2)
    if period == 2:
        if contrast >= SNARE_CONFIRMS:
            return 1.0, contrast, "a backbeat: the snare on alternate beats"
        return None, contrast, "no clear snare pattern"
    # the comb's beats against the other half of the comb twice as dense that holds them
    # (a snare every 4 beats is strong where the backbeat comb around it is not): one
    # loud beat among eight is not a pattern
    nested = beats[phase::period].mean() / max(beats[(phase + period // 2) :: period].mean(), 1e-12)
    if contrast < SNARE_DECIDES or contrast < backbeat * 1.05 or nested < SNARE_DECIDES:
        return None, contrast, f"no clear snare pattern (every {period} beats: {nested:.2f})"
    if period == 8 and bar_difference(kick, snare) < BAR_DIFFERENCE:
        return None, contrast, "the snare every 8 beats, but the bars repeat: no pattern"
    for factor, name in ((2.0 / period, "a backbeat"), (4.0 / period, "a half-time groove")):
        if min_bpm <= grid_bpm * factor <= max_bpm:
            return factor, contrast, f"the snare every {period} beats: {name} at this level"
    return 1.0, contrast, f"the snare every {period} beats: a half-time groove at the grid's level"


def metrical_evidence(
    grid: BeatGrid, drums: dict[str, np.ndarray], *, min_bpm: float, max_bpm: float
) -> MetricalEvidence | None:
    """The :class:`MetricalEvidence` of a grid (None for fewer than 8 beats): the drums'
    level from :func:`drum_envelopes` (`drums`), and the networks' from the grid's own
    activations."""
    beats = grid.beats
    if beats.size < 8:
        return None
    grid_bpm = 60.0 / float(np.median(np.diff(beats)))
    factor, contrast, reason = None, 1.0, "no bars"
    kick, snare = bar_profile(drums["kick"], grid), bar_profile(drums["snare"], grid)
    if kick is not None and snare is not None:
        factor, contrast, reason = snare_level(
            kick, snare, grid_bpm=grid_bpm, min_bpm=min_bpm, max_bpm=max_bpm
        )
    beat_network = downbeat_network = None
    act = grid.activation
    if act.size:
        lag = int(round(grid.fps * 60.0 / grid_bpm))
        one, two = _autocorrelation(act, lag), _autocorrelation(act, 2 * lag)
        at_beats = np.median(_activation_at(act, beats, grid.fps))
        at_halves = np.median(_activation_at(act, (beats[1:] + beats[:-1]) / 2.0, grid.fps))
        beat_network = 1.0
        if one < NETWORK_HALF_PERIODICITY * two:
            beat_network = 0.5
        elif at_halves >= NETWORK_DOUBLE_ACTIVATION * at_beats:
            beat_network = 2.0
    if grid.downbeat_activation.size and grid.downbeats.size >= 4:
        strength = _activation_at(grid.downbeat_activation, grid.downbeats, grid.fps)
        a, b = float(strength[0::2].mean()), float(strength[1::2].mean())
        downbeat_network = 0.5 if min(a, b) < NETWORK_BAR_ALTERNATION * max(a, b) else 1.0
    return MetricalEvidence(
        grid_bpm=grid_bpm,
        drums=factor,
        snare_contrast=round(contrast, 3),
        beat_network=beat_network,
        downbeat_network=downbeat_network,
        reason=reason,
    )


def _autocorrelation(x: np.ndarray, lag: int) -> float:
    x = np.asarray(x, dtype=np.float64) - float(np.mean(x))
    energy = float(np.dot(x, x))
    if not 0 < lag < x.size or energy <= 0:
        return 0.0
    return float(np.dot(x[:-lag], x[lag:]) / energy)


def _activation_at(act: np.ndarray, times: np.ndarray, fps: float) -> np.ndarray:
    """The activation's maximum within 20 ms of each time."""
    peaks = scipy.ndimage.maximum_filter1d(act, size=5)
    return peaks[np.clip(np.round(np.asarray(times) * fps).astype(int), 0, act.size - 1)]


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


#: the windows of a stem's onset density, in s (hop: half of it)
STEM_WINDOW_S = 4.0


def stem_rhythm(stem: Audio, *, beats: np.ndarray, name: str) -> dict[str, float | Undefined]:
    """Per-stem rhythm: onset density over 4 s windows (2 s hop), strength-weighted syncopation,
    complexity and evenness, keyed `<feature>_<name>`."""
    env = onset_envelope(stem)
    peaks, _ = onset_frames(stem)
    times = onset_times(stem)
    duration = stem.duration_s
    if duration >= STEM_WINDOW_S:
        starts = np.arange(0.0, duration - STEM_WINDOW_S + 1e-9, STEM_WINDOW_S / 2)
        # onsets in [s, s + 4): two binary searches per window, not a scan of every onset
        end = starts + STEM_WINDOW_S
        counts = np.searchsorted(times, end, "left") - np.searchsorted(times, starts, "left")
        densities = counts / STEM_WINDOW_S
        average = round(float(densities.mean()), 4)
        variance = round(float(densities.var()), 4)
    else:  # a density over 4 s of a shorter stem would count silence that is not there
        average = variance = Undefined(
            f"{duration:.2f} s of audio: shorter than one {STEM_WINDOW_S:g} s window"
        )
    weights = env[peaks] if peaks.size else np.zeros(0)
    cx = ioi_complexity(times)
    return {
        f"onset_density_average_{name}": average,
        f"onset_density_variance_{name}": variance,
        f"syncopation_{name}": syncopation(times, beats, weights=weights),
        f"rhythmic_complexity_{name}": cx["rhythmic_complexity"],
        f"rhythmic_evenness_{name}": cx["rhythmic_evenness"],
    }

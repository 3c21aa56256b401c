"""Rhythm features: onsets, syncopation, complexity, evenness, tempo estimators."""

from __future__ import annotations

import numpy as np
import scipy.stats

from mir.audio import Audio
from mir.intermediates import SR, mono44, onset_envelope, onset_frames, onset_times

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
        votes = sum(1 for e in estimates if e > 0 and abs(e - cand) / cand < 0.04)
        prior = float(np.exp(-0.5 * (np.log2(cand / 115.0) / 0.55) ** 2))
        score = votes + 0.9 * prior + (0.6 if factor == 1.0 else 0.0)
        if score > best_score:
            best, best_score = cand, score
    return round(float(best), 2)


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

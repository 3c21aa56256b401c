"""Depth: `timbral_depth` of timbral_models 0.4.0 (Timbral_Depth.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mir.timbral.peaks import detect_peaks


def decay_times(rms: np.ndarray, onsets: list[int], sr: int) -> np.ndarray:
    """Depth's durations: from each onset's RMS peak (256-sample frames) to the first
    frame below -40 dB, or to the next onset, in seconds."""
    frames = (np.array(onsets) / 256.0).astype(np.int64)
    durations = []
    for i, onset in enumerate(frames):
        segment = rms[onset:] if onset == frames[-1] else rms[onset : frames[i + 1]]
        after = segment[int(np.argmax(segment)) :]
        below = np.flatnonzero(after < 10 ** (-40 / 20.0))
        durations.append((below[0] if below.size else after.size) / (sr / 256.0))
    return np.array(durations)


def rating(d: dict[str, Any]) -> float:
    """`timbral_depth`: below-2-kHz centroid and below-500-Hz power ratio (power-weighted
    over 4096-sample frames, frames under -60 dB counting as 0), the mean decay time of
    the onsets' RMS envelope to -40 dB, and the lowest peak of the summed spectrum."""
    threshold = 10 ** (-60 / 20.0)
    power = d["d_power"]
    loud = power > threshold
    with np.errstate(divide="ignore", invalid="ignore"):
        centroid = np.where(loud, d["d_centroid"] / d["d_centroid_power"], 0.0)
        ratio = np.where(loud, d["d_ratio_power"] / power, 0.0)
    lower_centroid = np.average(centroid, weights=power)
    lower_centroid = min(lower_centroid, np.float64(2000))
    lower_ratio = np.average(ratio, weights=power)
    with np.errstate(divide="ignore"):
        duration = np.log10(np.mean(d["durations"]))

    spectrum = d["spectrum_sum"]
    norm = (spectrum - spectrum.min()) / (spectrum.max() - spectrum.min())
    _, _, pos, _ = detect_peaks(norm[None, :], norm[None, :], d["spectrum_freq"], 0.01)
    pitch = np.log10(pos.min()) if pos.size and pos[0] > 0 else 0.0

    sig = lower_ratio**10 / (lower_ratio**10 + 0.2)
    metrics = np.array(
        [lower_centroid, lower_ratio, duration, pitch, lower_ratio * duration, sig * duration, 1.0]
    )
    coefficients = np.array(
        [-0.0043703565847874465, 32.83743202462131, 4.750862716905235, -14.217438690256062]
        + [3.8782339862813924, -0.8544826091735516, 66.69534393444391]
    )
    return float(np.sum(metrics * coefficients))

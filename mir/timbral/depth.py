"""Depth: `timbral_depth` of timbral_models 0.4.0 (Timbral_Depth.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mir.family import Undefined
from mir.timbral.peaks import detect_peaks

#: samples per step of depth's RMS envelope (`calculate_rms_enveope`)
RMS_STEP = 256


def decay_times(rms: np.ndarray, onsets: list[int], sr: int) -> np.ndarray:
    """Depth's durations: from each onset's RMS peak (256-sample frames) to the first
    frame below -40 dB, or to the next onset, in seconds; none for an onset whose segment
    holds no step of the envelope."""
    frames = (np.array(onsets) / 256.0).astype(np.int64)
    durations = []
    for i, onset in enumerate(frames):
        segment = rms[onset:] if onset == frames[-1] else rms[onset : frames[i + 1]]
        if not segment.size:  # two onsets in one step (the package's argmax fails)
            continue
        after = segment[int(np.argmax(segment)) :]
        below = np.flatnonzero(after < 10 ** (-40 / 20.0))
        durations.append((below[0] if below.size else after.size) / (sr / 256.0))
    return np.array(durations)


def rating(d: dict[str, Any], sr: int) -> float | Undefined:
    """`timbral_depth`: below-2-kHz centroid and below-500-Hz power ratio (power-weighted
    over 4096-sample frames, frames under -60 dB counting as 0), the mean decay time of
    the onsets' RMS envelope to -40 dB, and the lowest peak of the summed spectrum.

    Undefined where no frame has power once its mean is removed (the package's weighted
    means divide by zero). A mean decay shorter than one step of the 256-sample RMS
    envelope, which the package measures as 0 s (a log of -inf, and a NaN rating where
    the low-frequency ratio is 0 too), counts as one step: the envelope's resolution."""
    threshold = 10 ** (-60 / 20.0)
    power = d["d_power"]
    if not np.sum(power) > 0:
        return Undefined("depth: no 4096-sample frame has power once its mean is removed")
    if not d["durations"].size:
        return Undefined("depth: no onset segment to time a decay in")
    loud = power > threshold
    with np.errstate(divide="ignore", invalid="ignore"):
        centroid = np.where(loud, d["d_centroid"] / d["d_centroid_power"], 0.0)
        ratio = np.where(loud, d["d_ratio_power"] / power, 0.0)
    lower_centroid = np.average(centroid, weights=power)
    lower_centroid = min(lower_centroid, np.float64(2000))
    lower_ratio = np.average(ratio, weights=power)
    duration = np.log10(max(np.mean(d["durations"]), RMS_STEP / sr))

    spectrum = d["spectrum_sum"]
    with np.errstate(invalid="ignore"):  # a flat spectrum has no peak: pitch 0
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

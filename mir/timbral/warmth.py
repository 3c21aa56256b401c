"""Warmth: `timbral_warmth` of timbral_models 0.4.0 (Timbral_Warmth.py)."""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal

from mir.timbral.peaks import detect_peaks
from mir.timbral.signal import MonoSignal
from mir.timbral.specific_loudness import WindowMeasure, band_measure

#: warmth's onset spectra peak-picked at once
_WARMTH_BATCH = 256


def window_measures() -> dict[str, WindowMeasure]:
    """The warm-region (1-4 Bark) and high-frequency (8-24 Bark) levels of each loudness window."""
    return {"warm_region": band_measure(10, 40), "high_freq": band_measure(80, 240)}


def rating(src: MonoSignal, win: dict[str, np.ndarray], onsets: list[int]) -> float:
    """`timbral_warmth`: per onset segment the spectral centroid, the share of energy
    from the fundamental to 260 Hz and how well a power law fits the spectrum above
    3.5 x the fundamental (R^2 on log-log axes); with the warm-region (1-4 Bark) and
    high-frequency loudness, in a linear regression."""
    sr = src.sr
    bounds = list(onsets) + [src.n]
    rms, ratios, centroids, scores = [], [], [], []
    spectra = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        seg = src.x(a, b)
        rms.append(np.sqrt(np.mean(seg * seg)))
        # scipy's default spectrogram (Tukey window, 1/8 overlap), summed over frames
        freq, _, spec = scipy.signal.spectrogram(seg, sr, nperseg=min(seg.size, 8192), nfft=8192)
        spec = spec.sum(axis=1)
        spectra.append(spec / np.max(np.abs(spec)))
        if len(spectra) < _WARMTH_BATCH and i < len(bounds) - 2:
            continue
        batch = np.array(spectra)
        spectra = []
        row, _, pos, idx = detect_peaks(batch, batch, freq, 0.2)
        fundamental = np.full(batch.shape[0], np.inf)
        np.minimum.at(fundamental, row, pos)
        fundamental_idx = np.full(batch.shape[0], batch.shape[1])
        np.minimum.at(fundamental_idx, row, idx)
        top_260 = int(np.flatnonzero(freq > 260)[0])
        for spec, f0, i0 in zip(batch, fundamental, fundamental_idx, strict=True):
            limit = min(f0 * 3.5, 12000)
            wr_idx = int(np.flatnonzero(freq > limit)[0])
            total = float(np.sum(spec))
            ratios.append(np.sum(spec[i0:top_260]) / total if f0 < 260 else 0)
            centroids.append(np.sum(freq * spec) / total)
            # R^2 of the least-squares line through the log-log spectrum above the region
            with np.errstate(divide="ignore"):
                y = np.log10(spec[wr_idx:])
                x = np.log10(freq[wr_idx:])
            design = np.stack([x, np.ones_like(x)], axis=1)
            residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
            scores.append(1 - np.sum(residual**2) / np.sum((y - y.mean()) ** 2))
    metrics = np.array(
        [
            np.log10(np.mean(centroids)),
            np.average(win["high_freq"], weights=win["rms"]),
            np.mean(win["warm_region"]),
            np.mean(scores),
            np.average(ratios, weights=rms),
            1.0,
        ]
    )
    coefficients = np.array(
        [-4.464258317026696, -0.08819320850778556, 0.29156539973575546]
        + [17.274733561081554, 8.403340066029507, 45.21212125085579]
    )
    return float(np.sum(metrics * coefficients))

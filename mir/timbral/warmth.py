"""Warmth: `timbral_warmth` of timbral_models 0.4.0 (Timbral_Warmth.py)."""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal

from mir.family import Undefined
from mir.timbral.peaks import detect_peaks
from mir.timbral.signal import MonoSignal
from mir.timbral.specific_loudness import WindowMeasure, band_measure

#: warmth's onset spectra peak-picked at once
_WARMTH_BATCH = 256


def window_measures() -> dict[str, WindowMeasure]:
    """The warm-region (1-4 Bark) and high-frequency (8-24 Bark) levels of each loudness window."""
    return {"warm_region": band_measure(10, 40), "high_freq": band_measure(80, 240)}


def rating(src: MonoSignal, win: dict[str, np.ndarray], onsets: list[int]) -> float | Undefined:
    """`timbral_warmth`: per onset segment the spectral centroid, the share of energy
    from the fundamental to 260 Hz and how well a power law fits the spectrum above
    3.5 x the fundamental (R^2 on log-log axes); with the warm-region (1-4 Bark) and
    high-frequency loudness, in a linear regression.

    Where the package gives NaN (or raises), this gives a number or says why not:

    * A spectrum with exact zeros (a band-limited signal, a segment shorter than the
      window's taper) has no logarithm there: the power law is fitted to the bins that
      have power (the package's log of 0 is -inf, and its fit NaN). A segment with no
      power above the region has no fit and leaves the mean fit to the others. Where the
      log spectrum is flat above the region (nothing to explain), the flat line fits it
      exactly: R^2 = 1.
    * A segment with no spectral power at all (constant samples, digital silence) has no
      centroid, ratio or fit (the package divides by its zero maximum): it is left out.
    * Undefined where no segment has spectral power, or none has power above its region
      to fit.
    """
    sr = src.sr
    bounds = list(onsets) + [src.n]
    rms, ratios, centroids, scores = [], [], [], []
    spectra = []
    last = len(bounds) - 2
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        if b > a:
            seg = src.x(a, b)
            # scipy's default spectrogram (Tukey window, 1/8 overlap), summed over frames
            freq, _, spec = scipy.signal.spectrogram(
                seg, sr, nperseg=min(seg.size, 8192), nfft=8192
            )
            spec = spec.sum(axis=1)
            top = np.max(np.abs(spec))
            if top > 0:
                rms.append(np.sqrt(np.mean(seg * seg)))
                spectra.append(spec / top)
        if not spectra or (len(spectra) < _WARMTH_BATCH and i < last):
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
            score = _power_law_fit(freq[wr_idx:], spec[wr_idx:])
            if score is not None:
                scores.append(score)
    if not centroids:
        return Undefined(
            "warmth: no onset segment has spectral power once each frame's mean is removed"
        )
    if not scores:
        return Undefined("warmth: no onset segment has power above its warmth region to fit")
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


def _power_law_fit(freq: np.ndarray, spec: np.ndarray) -> float | None:
    """R^2 of the least-squares line through the log-log spectrum (the bins with power),
    1 where that is flat; None where no bin has power."""
    has = spec > 0
    if not has.any():
        return None
    y = np.log10(spec[has])
    x = np.log10(freq[has])
    design = np.stack([x, np.ones_like(x)], axis=1)
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    spread = np.sum((y - y.mean()) ** 2)
    return 1 - np.sum(residual**2) / spread if spread > 0 else 1.0

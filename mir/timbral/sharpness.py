"""Sharpness: `timbral_sharpness` and `sharpness_Fastl` of timbral_models 0.4.0
(Timbral_Sharpness.py).
"""

from __future__ import annotations

import numpy as np

from mir.family import Undefined
from mir.timbral.filters import dot
from mir.timbral.specific_loudness import NO_LOUDNESS, WindowMeasure, audible


def _sharpness_weights() -> np.ndarray:
    """`sharpness_Fastl`'s g(z) * z * 0.1 for the 240 bands."""
    z = np.arange(141, 241)
    gzz = 0.00012 * (z / 10.0) ** 4 - 0.0056 * (z / 10.0) ** 3 + 0.1 * (z / 10.0) ** 2
    gz = np.concatenate([np.ones(140), gzz - 0.81 * (z / 10.0) + 3.5])
    return gz * np.arange(0.1, 240 / 10.0 + 0.1, 0.1) * 0.1


def window_measures() -> dict[str, WindowMeasure]:
    """Fastl's sharpness of each loudness window (0 for a window without loudness)."""
    weights = _sharpness_weights()

    def sharpness(ns: np.ndarray, n_entire: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            sharp = 0.11 * dot(ns, weights) / np.sum(ns * 0.1, axis=1)
        return np.where(n_entire > 0, sharp, 0.0)

    return {"sharpness": sharpness}


def rating(win: dict[str, np.ndarray]) -> float | Undefined:
    """`timbral_sharpness`: Fastl's sharpness of each window, averaged with RMS^2 weights.

    Undefined (:data:`~mir.timbral.specific_loudness.NO_LOUDNESS`) where no window has
    loudness: Fastl's sharpness is a loudness-weighted mean (the package's log of its
    zero average is -inf)."""
    if not audible(win):
        return NO_LOUDNESS
    sharp = np.log10(np.average(win["sharpness"], weights=win["rms"] * win["rms"]))
    return 102.50508921364404 * sharp + 34.432655185001735

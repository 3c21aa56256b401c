"""Booming: `timbral_booming` and `boominess_calculate` of timbral_models 0.4.0
(Timbral_Booming.py).
"""

from __future__ import annotations

import numpy as np

from mir.family import Undefined
from mir.timbral.specific_loudness import (
    LAB_FREQ,
    NO_LOUDNESS,
    WindowMeasure,
    audible,
    band_measure,
)


def _booming_weights() -> tuple[np.ndarray, int]:
    """`boominess_calculate`'s weighting of the 240 bands and its index of 280 Hz."""
    z = np.arange(0.1, 24.05, 0.1)
    f = 600 * np.sinh(z / 6.0)
    log_fr = np.log10(LAB_FREQ[:28])
    index = ((np.log10(f) - log_fr[0]) / float(log_fr[1] - log_fr[0])) + 1
    weights = 2.13 * np.exp(-0.151 * index)
    weights[:4] = [0.8, 1.05, 1.10, 1.18]
    return weights, int(np.flatnonzero(f >= 280)[0])


def window_measures() -> dict[str, WindowMeasure]:
    """Hatano and Hashimoto's booming index of each loudness window (0 for a window
    without loudness) and the level of its lowest 7 Bark."""
    weights, below_280 = _booming_weights()

    def booming(ns: np.ndarray, n_entire: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            band_sum = 10 * np.log10(np.sum(10 ** ((ns * weights) / 10.0), axis=1))
            boom = band_sum * (np.sum(ns[:, :below_280], axis=1) / np.sum(ns, axis=1))
        return np.where(n_entire > 0, boom, 0.0)

    return {"booming": booming, "bark_0_70": band_measure(0, 70)}


def rating(win: dict[str, np.ndarray]) -> float | Undefined:
    """`timbral_booming`: Hatano and Hashimoto's booming index of each window, averaged
    with RMS^2 weights, and the mean level of the lowest 7 Bark.

    Undefined (:data:`~mir.timbral.specific_loudness.NO_LOUDNESS`) where no window has
    loudness. A sound with no loudness below 280 Hz has a booming index of 0: its rating
    is 0, the bottom of the scale (the package's logs of the zero index and of the then
    zero low level give -inf + inf, NaN)."""
    if not audible(win):
        return NO_LOUDNESS
    index = np.average(win["booming"], weights=win["rms"] * win["rms"])
    if index <= 0:
        return 0.0
    boom = np.log10(index)
    with np.errstate(divide="ignore"):  # no level below 7 Bark: +inf, clamped to 100
        low_level = np.log10(np.mean(win["bark_0_70"]))
    return 43.67402696195865 * boom - 10.90054738389845 * low_level + 26.836530575185435

"""Brightness: `timbral_brightness` of timbral_models 0.4.0 (Timbral_Brightness.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mir.family import Undefined


def rating(d: dict[str, Any]) -> float | Undefined:
    """`timbral_brightness`: the power ratio above 2 kHz and the spectral centroid above
    100 Hz, both power-weighted over 2048-sample frames, in a linear regression.

    Undefined where no frame has power once its mean is removed (a constant signal, a
    single sample: the package's ratio and centroid are 0 / 0). No power above 2 kHz
    sends the regression to -inf: 0."""
    sounding = d["b_all"] > 0
    has = d["b_centroid_power"] > 0
    if not sounding.any() or not has.any():
        return Undefined("brightness: no 2048-sample frame has power once its mean is removed")
    ratio = np.sum(d["b_hp"][sounding]) / np.sum(d["b_all"][sounding])
    centroid = np.sum(d["b_centroid"][has]) / np.sum(d["b_centroid_power"][has])
    with np.errstate(divide="ignore"):  # a log of 0: -inf, clamped to 0
        return (
            4.613128018020465 * np.log10(ratio)
            + 17.378889309312974 * np.log10(centroid)
            + (17.434733750553022)
        )

"""Brightness: `timbral_brightness` of timbral_models 0.4.0 (Timbral_Brightness.py)."""

from __future__ import annotations

from typing import Any

import numpy as np


def rating(d: dict[str, Any]) -> float:
    """`timbral_brightness`: the power ratio above 2 kHz and the spectral centroid above
    100 Hz, both power-weighted over 2048-sample frames, in a linear regression."""
    sounding = d["b_all"] > 0
    ratio = np.sum(d["b_hp"][sounding]) / np.sum(d["b_all"][sounding])
    has = d["b_centroid_power"] > 0
    centroid = np.sum(d["b_centroid"][has]) / np.sum(d["b_centroid_power"][has])
    return (
        4.613128018020465 * np.log10(ratio)
        + 17.378889309312974 * np.log10(centroid)
        + (17.434733750553022)
    )

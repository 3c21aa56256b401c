"""Loudness: integrated loudness (ITU-R BS.1770-4) and loudness range (EBU Tech 3342).

Both come from one K-weighted copy of the signal (pyloudnorm's filter design) and
cumulative sums of its power, so a track is filtered once and no block is summed twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyloudnorm
import scipy.signal

#: Reported when no block passes the -70 LUFS absolute gate (silence).
LOUDNESS_FLOOR_LUFS = -70.0
_ABSOLUTE_GATE = -70.0
_CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)


@dataclass(frozen=True)
class Loudness:
    """lufs: integrated loudness in LUFS; lra: loudness range in LU."""

    lufs: float
    lra: float


def k_weighted(samples: np.ndarray, *, sr: int) -> np.ndarray:
    """Apply the BS.1770 K-weighting (shelf + high-pass) along axis 0, in float64."""
    meter = pyloudnorm.Meter(sr)
    out = np.asarray(samples, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    for stage in meter._filters.values():
        out = scipy.signal.lfilter(stage.b, stage.a, out, axis=0)
    return out


def _block_power(kw: np.ndarray, *, sr: int, block_s: float, hop_s: float) -> np.ndarray:
    """Channel-weighted mean-square power of each block, shape (n_blocks,)."""
    n, channels = kw.shape
    total_s = n / sr
    if total_s < block_s:
        return np.zeros(0)
    n_blocks = int(np.round((total_s - block_s) / hop_s)) + 1
    j = np.arange(n_blocks)
    lo = (block_s * (j * hop_s / block_s) * sr).astype(np.int64)
    hi = np.minimum((block_s * (j * hop_s / block_s + 1) * sr).astype(np.int64), n)
    csum = np.vstack([np.zeros((1, channels)), np.cumsum(kw * kw, axis=0)])
    z = (csum[hi] - csum[lo]) / (block_s * sr)
    gains = np.array(_CHANNEL_GAINS[:channels] + (1.41,) * max(0, channels - 5))
    return z @ gains


def _to_lufs(power: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(power)


def integrated_loudness(kw: np.ndarray, *, sr: int) -> float:
    """BS.1770-4 gated integrated loudness of a K-weighted signal, in LUFS.

    400 ms blocks with 75 % overlap, -70 LUFS absolute gate, -10 LU relative gate.
    Silence returns :data:`LOUDNESS_FLOOR_LUFS`.
    """
    power = _block_power(kw, sr=sr, block_s=0.4, hop_s=0.1)
    loud = _to_lufs(power)
    gated = power[loud >= _ABSOLUTE_GATE]
    if gated.size == 0:
        return LOUDNESS_FLOOR_LUFS
    relative = _to_lufs(gated.mean()) - 10.0
    gated = power[(loud > relative) & (loud > _ABSOLUTE_GATE)]
    if gated.size == 0:
        return LOUDNESS_FLOOR_LUFS
    return float(max(_to_lufs(gated.mean()), LOUDNESS_FLOOR_LUFS))


def loudness_range(kw: np.ndarray, *, sr: int, window_s: float = 3.0) -> float:
    """EBU Tech 3342 loudness range of a K-weighted signal, in LU.

    Short-term loudness over `window_s` windows every 100 ms; blocks below -70 LUFS
    are dropped (absolute gate), then blocks more than 20 LU below the power mean of
    the rest (relative gate); LRA is the 95th minus the 10th percentile.
    A signal shorter than one window has an LRA of 0.
    """
    power = _block_power(kw, sr=sr, block_s=window_s, hop_s=0.1)
    loud = _to_lufs(power)
    keep = loud >= _ABSOLUTE_GATE
    if keep.sum() < 2:
        return 0.0
    relative = _to_lufs(power[keep].mean()) - 20.0
    gated = loud[keep & (loud >= relative)]
    if gated.size < 2:
        return 0.0
    return float(np.percentile(gated, 95) - np.percentile(gated, 10))


def measure_loudness(samples: np.ndarray, *, sr: int, lra_window_s: float = 3.0) -> Loudness:
    """Integrated loudness and loudness range of a (multichannel) signal.

    Parameters
    ----------
    samples : np.ndarray, shape (n,) or (n, channels)
        Audio in [-1, 1]; channels in BS.1770 order (L, R, C, Ls, Rs).
    sr : int
        Sample rate in Hz.

    Returns
    -------
    Loudness
        `lufs` in LUFS (floor -70 for silence), `lra` in LU.

    Examples
    --------
    >>> t = np.arange(48000 * 5) / 48000
    >>> round(measure_loudness(0.1 * np.sin(2 * np.pi * 1000 * t), sr=48000).lufs, 1)
    -23.0
    """
    kw = k_weighted(samples, sr=sr)
    return Loudness(
        lufs=round(integrated_loudness(kw, sr=sr), 3),
        lra=round(loudness_range(kw, sr=sr, window_s=lra_window_s), 3),
    )

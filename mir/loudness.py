"""Loudness: integrated loudness (ITU-R BS.1770-4) and loudness range (EBU Tech 3342).

Both come from one K-weighted copy of the signal (pyloudnorm's filter design) and
cumulative sums of its power, so a track is filtered once and no block is summed twice.
:func:`measure_loudness` filters and sums in blocks of :data:`BLOCK_SAMPLES` (filter
state and running sum carried over, so the numbers are the same), keeping only the
sums at the measurement blocks' edges: memory does not grow with the track's length.
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
#: samples K-weighted at once by :func:`measure_loudness`
BLOCK_SAMPLES = 1 << 20


@dataclass(frozen=True)
class Loudness:
    """lufs: integrated loudness in LUFS, None for a signal shorter than one 400 ms
    gating block; lra: loudness range in LU, None when fewer than two short-term windows
    pass the gates (a signal shorter than one window, or silence)."""

    lufs: float | None
    lra: float | None


def k_weighted(samples: np.ndarray, *, sr: int) -> np.ndarray:
    """Apply the BS.1770 K-weighting (shelf + high-pass) along axis 0, in float64."""
    meter = pyloudnorm.Meter(sr)
    out = np.asarray(samples, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    for stage in meter._filters.values():
        out = scipy.signal.lfilter(stage.b, stage.a, out, axis=0)
    return out


def _block_bounds(n: int, *, sr: int, block_s: float, hop_s: float):
    """First and end sample of each measurement block, or None if `n` is too short."""
    total_s = n / sr
    if total_s < block_s:
        return None
    n_blocks = int(np.round((total_s - block_s) / hop_s)) + 1
    j = np.arange(n_blocks)
    lo = (block_s * (j * hop_s / block_s) * sr).astype(np.int64)
    hi = np.minimum((block_s * (j * hop_s / block_s + 1) * sr).astype(np.int64), n)
    return lo, hi


def _weighted_power(energy: np.ndarray, *, sr: int, block_s: float) -> np.ndarray:
    """Per-channel block energies (n_blocks, channels) to channel-weighted mean square."""
    channels = energy.shape[1]
    gains = np.array(_CHANNEL_GAINS[:channels] + (1.41,) * max(0, channels - 5))
    return (energy / (block_s * sr)) @ gains


def _block_power(kw: np.ndarray, *, sr: int, block_s: float, hop_s: float) -> np.ndarray:
    """Channel-weighted mean-square power of each block, shape (n_blocks,)."""
    n, channels = kw.shape
    bounds = _block_bounds(n, sr=sr, block_s=block_s, hop_s=hop_s)
    if bounds is None:
        return np.zeros(0)
    lo, hi = bounds
    csum = np.vstack([np.zeros((1, channels)), np.cumsum(kw * kw, axis=0)])
    return _weighted_power(csum[hi] - csum[lo], sr=sr, block_s=block_s)


def _cumulative_power_at(samples: np.ndarray, *, sr: int, at: np.ndarray) -> np.ndarray:
    """`csum[at]`, where csum[i] is the per-channel sum of the K-weighted signal's
    squares over its first i samples; filtered and summed block by block."""
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    n, channels = x.shape
    stages = list(pyloudnorm.Meter(sr)._filters.values())
    states = [np.zeros((max(len(st.a), len(st.b)) - 1, channels)) for st in stages]
    out = np.zeros((at.size, channels))
    carry = np.zeros((1, channels))
    for a in range(0, n, BLOCK_SAMPLES):
        block = np.asarray(x[a : a + BLOCK_SAMPLES], dtype=np.float64)
        for i, st in enumerate(stages):
            block, states[i] = scipy.signal.lfilter(st.b, st.a, block, axis=0, zi=states[i])
        # the running sum goes on from the last block's total, in the same order
        csum = np.cumsum(np.vstack([carry, block * block]), axis=0)
        inside = (at >= a) & (at <= a + block.shape[0])
        out[inside] = csum[at[inside] - a]
        carry = csum[-1:]
    return out


def _to_lufs(power: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(power)


def integrated_loudness(kw: np.ndarray, *, sr: int) -> float | None:
    """BS.1770-4 gated integrated loudness of a K-weighted signal, in LUFS.

    400 ms blocks with 75 % overlap, -70 LUFS absolute gate, -10 LU relative gate.
    Silence returns :data:`LOUDNESS_FLOOR_LUFS`; a signal shorter than one block, None.
    """
    return _gated_loudness(_block_power(kw, sr=sr, block_s=0.4, hop_s=0.1))


def _gated_loudness(power: np.ndarray) -> float | None:
    if power.size == 0:  # not one block: no loudness at all, not silence
        return None
    loud = _to_lufs(power)
    gated = power[loud >= _ABSOLUTE_GATE]
    if gated.size == 0:
        return LOUDNESS_FLOOR_LUFS
    relative = _to_lufs(gated.mean()) - 10.0
    gated = power[(loud > relative) & (loud > _ABSOLUTE_GATE)]
    if gated.size == 0:
        return LOUDNESS_FLOOR_LUFS
    return float(max(_to_lufs(gated.mean()), LOUDNESS_FLOOR_LUFS))


def loudness_range(kw: np.ndarray, *, sr: int, window_s: float = 3.0) -> float | None:
    """EBU Tech 3342 loudness range of a K-weighted signal, in LU.

    Short-term loudness over `window_s` windows every 100 ms; blocks below -70 LUFS
    are dropped (absolute gate), then blocks more than 20 LU below the power mean of
    the rest (relative gate); LRA is the 95th minus the 10th percentile. None when fewer
    than two windows pass the gates (a signal shorter than one window, or silence): a
    range needs two.
    """
    return _range_of(_block_power(kw, sr=sr, block_s=window_s, hop_s=0.1))


def _range_of(power: np.ndarray) -> float | None:
    loud = _to_lufs(power)
    keep = loud >= _ABSOLUTE_GATE
    if keep.sum() < 2:
        return None
    relative = _to_lufs(power[keep].mean()) - 20.0
    gated = loud[keep & (loud >= relative)]
    if gated.size < 2:
        return None
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
        `lufs` in LUFS (floor -70 for silence, None shorter than one 400 ms block),
        `lra` in LU (None without two gated 3 s windows).

    Examples
    --------
    >>> t = np.arange(48000 * 5) / 48000
    >>> round(measure_loudness(0.1 * np.sin(2 * np.pi * 1000 * t), sr=48000).lufs, 1)
    -23.0
    """
    n = np.shape(samples)[0]
    windows = {"lufs": 0.4, "lra": lra_window_s}
    bounds = {k: _block_bounds(n, sr=sr, block_s=w, hop_s=0.1) for k, w in windows.items()}
    edges = [np.r_[b[0], b[1]] for b in bounds.values() if b is not None]
    at = np.unique(np.concatenate(edges)) if edges else np.zeros(0, dtype=np.int64)
    csum = _cumulative_power_at(samples, sr=sr, at=at)
    power = {}
    for key, b in bounds.items():
        if b is None:
            power[key] = np.zeros(0)
            continue
        lo, hi = (csum[np.searchsorted(at, i)] for i in b)
        power[key] = _weighted_power(hi - lo, sr=sr, block_s=windows[key])
    lufs, lra = _gated_loudness(power["lufs"]), _range_of(power["lra"])
    return Loudness(
        lufs=None if lufs is None else round(lufs, 3), lra=None if lra is None else round(lra, 3)
    )

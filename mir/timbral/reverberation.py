"""Reverberation: `timbral_reverb` and `estimate_RT60` of timbral_models 0.4.0
(Timbral_Reverb.py).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from mir.family import Undefined
from mir.timbral.signal import MIN_SR

#: RT60 frames estimated at once
_RT_BATCH = 4096


def _decay_run(raw: np.ndarray, starts: np.ndarray, n_sub: int, down: int) -> np.ndarray:
    """For frames starting at `starts` (decimated by `down`), how many of sub-frames 2..6
    in a row have a lower variance, a lower maximum and a higher minimum than the one
    before (`rt_estimate_frame_my`'s pre-selection). Sub-frame 1 is n_sub samples, the
    others n_sub + 1 (the package's slices). The statistics come from running sums and
    filters; where two variances are within 1e-5 of each other they are recomputed as
    the package does (`np.var` in the signal's precision), so the comparison is its."""
    seg = raw.astype(np.float64)
    stats = {}
    for phase in np.unique(starts % down):
        y = seg[phase::down]
        s1 = np.concatenate([[0.0], np.cumsum(y)])
        s2 = np.concatenate([[0.0], np.cumsum(y * y)])
        if n_sub > y.size:
            continue
        lo = minimum_filter1d(y, n_sub, origin=-(n_sub // 2))[: y.size - n_sub + 1]
        hi = maximum_filter1d(y, n_sub, origin=-(n_sub // 2))[: y.size - n_sub + 1]
        for length in (n_sub, n_sub + 1):
            if length > y.size:
                continue
            count = y.size - length + 1
            if length > n_sub:  # one more sample at the end
                lo = np.minimum(lo[:count], y[n_sub:])
                hi = np.maximum(hi[:count], y[n_sub:])
            mean = (s1[length:] - s1[:-length]) / length
            var = (s2[length:] - s2[:-length]) / length - mean * mean
            stats[phase, length] = (np.maximum(var, 0.0), hi, lo)
    run = np.zeros(starts.size, dtype=np.int64)
    going = np.ones(starts.size, dtype=bool)
    phase = starts % down
    base = starts // down

    def sub(k):
        length = n_sub if k == 1 else n_sub + 1
        at = base + (k - 1) * n_sub
        out = [np.empty(starts.size) for _ in range(3)]
        for ph in np.unique(phase):
            sel = phase == ph
            for o, values in zip(out, stats[ph, length], strict=True):
                o[sel] = values[at[sel]]
        return out

    def exact_var(frames: np.ndarray, k: int) -> np.ndarray:
        length = n_sub if k == 1 else n_sub + 1
        first = starts[frames] + down * (k - 1) * n_sub
        return np.array(
            [np.var(np.ascontiguousarray(raw[f : f + down * length : down])) for f in first]
        )

    prev = sub(1)
    for k in range(2, 7):
        cur = sub(k)
        close = np.flatnonzero(going & (np.abs(prev[0] - cur[0]) <= 1e-5 * prev[0]))
        if close.size:  # a near tie: the package's own arithmetic decides
            prev[0][close], cur[0][close] = exact_var(close, k - 1), exact_var(close, k)
        going &= (prev[0] > cur[0]) & (prev[1] > cur[1]) & (prev[2] < cur[2])
        run += going
        prev = cur
    return run


def _framing(sr: int) -> tuple[int, int]:
    """`init_rt_estimate_e`'s decimation and sub-frame length (samples after it)."""
    down = 2 if sr > 8e3 else 1
    return down, int(round(sr / 24000.0 * 700 / down))


def _rt60(y: np.ndarray, sr: int) -> float | None:
    """`estimate_RT60` (Jan and Wang's blind RT60 estimate, Loellmann's frame-wise
    scheme) of one channel: frames of 7 sub-frames (every N_shift samples, every other
    sample); where 3 or 4 consecutive sub-frames decay (variance and maximum falling,
    minimum rising) the maximum-likelihood decay rate of a Laplacian model over them;
    the mode of a sliding histogram of those estimates, smoothed recursively; its mean
    over the frames that gave an estimate. None for a channel shorter than one frame."""
    no = sr / 24000.0
    down, n_sub = _framing(sr)
    shift = int(round(no * 200 / down))
    n_frame = 7 * n_sub
    tquant = np.arange(0.2, 1.1 + 0.1 / 2, 0.1)
    decay = np.exp(-3.0 * np.log(10) / (tquant * (sr / down)))
    buffer_size = int(round(no * 800 / down))
    span = n_frame * down
    if span >= y.size:  # (the package: its shortest RT60, 0.2 s)
        return None
    starts = np.arange(0, y.size - span + 1, shift)
    ml_kernels = {}
    for count in (3, 4):
        n = np.arange(count * n_sub)
        ml_kernels[count] = (
            np.stack([a ** (-1.0 * n) for a in decay], axis=1),
            np.array([np.sum(np.log(a**n)) for a in decay]),
        )
    est_index = np.full(starts.size, -1)
    for b0 in range(0, starts.size, _RT_BATCH):
        st = starts[b0 : b0 + _RT_BATCH]
        seg = np.asarray(y[st[0] : st[-1] + span])
        local = st - st[0]
        run = _decay_run(seg, local, n_sub, down)
        for count in (3, 4):
            sel = np.flatnonzero(run == count)
            if not sel.size:
                continue
            kernel, log_sum = ml_kernels[count]
            idx = local[sel, None] + down * np.arange(count * n_sub)[None, :]
            h = np.abs(seg[idx])
            length = count * n_sub
            sum1 = h @ kernel
            sigma = (1 / length) * sum1
            ll = -length * np.log(2) - length * np.log(sigma) - log_sum - (1 / sigma) * sum1
            est_index[b0 + sel] = np.argmax(ll, axis=1)
    has = est_index >= 0
    found = est_index[has]
    if not found.size:
        return float(tquant[0])
    # the histogram holds the first estimate and the last `buffer_size` (the package's
    # removal starts one estimate late and never reaches the first)
    onehot = np.zeros((found.size, tquant.size))
    onehot[np.arange(found.size), found] = 1
    counts = np.cumsum(onehot, axis=0)
    c = np.arange(found.size)
    late = c >= buffer_size + 1
    counts[late] -= counts[c[late] - buffer_size]
    counts[late] += onehot[0]
    raw_at = np.full(starts.size, np.nan)
    raw_at[has] = tquant[np.argmax(counts, axis=1)]
    filled = np.where(has, np.arange(starts.size), -1)
    filled = np.maximum.accumulate(filled)
    raw = np.where(filled >= 0, raw_at[np.maximum(filled, 0)], 0.3)
    alpha = 0.995
    smooth, _ = scipy.signal.lfilter([1 - alpha], [1.0, -alpha], raw, zi=[alpha * 0.3])
    return float(np.mean(smooth[has]))


def _frame_seconds(sr: int) -> float:
    """The span of one RT60 analysis frame, in seconds."""
    down, n_sub = _framing(sr)
    return 7 * n_sub * down / sr


def rating(samples: np.ndarray, sr: int) -> float | Undefined:
    """`timbral_reverb(..., dev_output=True)`'s probability x 100: the logistic model on
    the RT60 (the mean of the first two channels'), from the raw signal.

    Undefined for a signal shorter than one analysis frame (7 sub-frames: 0.2 s at 44.1
    kHz), where nothing is analysed: the package returns its shortest RT60 (0.2 s) as if
    measured. A longer signal in which no frame decays keeps that value, as the
    package's: the frames were analysed and none showed a free decay."""
    x = np.asarray(samples)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    channels = [x] if x.ndim == 1 else [x[:, 0], x[:, 1]]
    if sr < MIN_SR:  # (the package resamples a stereo signal along the channel axis)
        import librosa

        channels = [
            librosa.resample(np.asarray(c, dtype=np.float64), orig_sr=sr, target_sr=MIN_SR)
            for c in channels
        ]
        sr = MIN_SR
    rts = [_rt60(c, sr) for c in channels]
    if None in rts:
        return Undefined(
            f"reverberation: shorter than one RT60 analysis frame ({_frame_seconds(sr):.2f} s)"
        )
    rt = np.mean(rts)
    logit = np.sum(np.array([2.97126461]) * np.array([rt])) + -1.45082989
    return float(np.exp(logit) / (1.0 + np.exp(logit)) * 100.0)

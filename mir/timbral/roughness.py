"""Roughness: `timbral_roughness` of timbral_models 0.4.0 (Timbral_Roughness.py)."""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal

from mir.timbral.peaks import detect_peaks
from mir.timbral.signal import MonoSignal

#: 50 ms roughness frames computed at once
_ROUGHNESS_BATCH = 512
#: pairs of spectral peaks weighed at once
_PAIR_BATCH = 1 << 20


class _RoughnessFrames:
    """`timbral_roughness`'s spectrogram of the signal with 512 zeros in front: 50 ms
    frames (symmetric Hamming window) every 25 ms (rounded down), |FFT| zero-padded to the
    next power of two. The package allocates `count` frames; those past the last whole
    frame stay empty (zeros) and count in the mean."""

    def __init__(self, src: MonoSignal):
        self.src = src
        self.length = src.n + 512
        self.step = int(src.sr * 0.05)
        half = self.step / 2.0
        self.count = int(self.length / (self.step - half))
        self.nfft = 2 ** int(np.log(self.step) / np.log(2) + 1)
        self.window = np.hamming(self.step + 2)[1:-1]
        starts = (np.arange(self.count + 2) * half).astype(np.int64)
        self.starts = starts[starts + self.step <= self.length][: self.count]
        self.freq = src.sr / 2 * np.linspace(0, 1, self.nfft // 2 + 1)

    def batches(self, dtype=np.float64):
        """Magnitudes (frames, bins) of the whole frames, batch by batch."""
        if self.length <= self.step:  # the whole padded signal, unwindowed, as one frame
            yield np.abs(scipy.fft.rfft(self.src.x(-512, self.src.n), self.nfft))[None, :]
            return
        starts = self.starts
        for f0 in range(0, starts.size, _ROUGHNESS_BATCH):
            f1 = min(f0 + _ROUGHNESS_BATCH, starts.size)
            y = self.src.x(int(starts[f0]) - 512, int(starts[f1 - 1]) - 512 + self.step)
            idx = (starts[f0:f1] - starts[f0])[:, None] + np.arange(self.step)[None, :]
            padded = np.zeros((f1 - f0, self.nfft), dtype=dtype)
            np.multiply(y[idx], self.window, out=padded[:, : self.step], casting="unsafe")
            yield np.abs(scipy.fft.rfft(padded, axis=1))

    def magnitude(self, i: int) -> np.ndarray:
        """Magnitudes of frame `i` alone (float64)."""
        if self.length <= self.step:
            return next(self.batches())[0]
        start = int(self.starts[i]) - 512
        return np.abs(scipy.fft.rfft(self.src.x(start, start + self.step) * self.window, self.nfft))


def rating(src: MonoSignal) -> float:
    """`timbral_roughness`: Vassilakis's roughness of every pair of spectral peaks (MIR
    toolbox peak picking, 1 % contrast, on the spectrogram min-max normalised over the
    whole signal) per frame, averaged over the frames. Two passes: the normalisation is
    global."""
    frames = _RoughnessFrames(src)
    # the normalisation: the lowest magnitude is 0 (a trailing frame is empty) or that of
    # the quietest frame; the highest, that of the loudest frame, found in float32 and
    # taken from its float64 spectrum
    tops, bottoms = [], []
    for spec in frames.batches(np.float32):
        tops.append(spec.max(axis=1))
        bottoms.append(spec.min(axis=1))
    tops, bottoms = np.concatenate(tops), np.concatenate(bottoms)
    whole = tops.size
    loudest = np.flatnonzero(tops >= tops.max() * (1 - 1e-5))
    quietest = np.flatnonzero(bottoms <= bottoms.min() * (1 + 1e-5) + 1e-30)
    if loudest.size + quietest.size > 64:  # many near-equal frames: one float64 pass
        top, bottom = -np.inf, np.inf
        for spec in frames.batches():
            top, bottom = max(top, float(spec.max())), min(bottom, float(spec.min()))
    else:
        top = max(float(frames.magnitude(i).max()) for i in loudest)
        bottom = min(float(frames.magnitude(i).min()) for i in quietest)
    if whole < frames.count:
        bottom = min(bottom, 0.0)
    if not top > bottom:  # one flat spectrum (a lone sample): no peaks, as the package finds
        return 0.0
    total = 0.0
    for spec in frames.batches():
        row, value, pos, _ = detect_peaks((spec - bottom) / (top - bottom), spec, frames.freq, 0.01)
        total += _pair_roughness(row, value, pos)
    mean = total / max(frames.count, whole)
    if mean < 0.01:
        return 0.0
    return float(np.log10(mean) * 13.98779569 + 48.97606571545886)


def _pair_roughness(row: np.ndarray, value: np.ndarray, pos: np.ndarray) -> float:
    """Summed over frames, Vassilakis's roughness of each pair of a frame's peaks (given
    by row, strongest first): each peak with every stronger one of its frame, as the
    package's lower triangle. Per frame the pairs are bounded (a spectrum has at most
    1025 peaks), so the work is linear in the frames."""
    if row.size < 2:
        return 0.0
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    first_of = np.repeat(starts, np.diff(np.r_[starts, row.size]))
    rank = np.arange(row.size) - first_of
    pair_end = np.cumsum(rank)
    total = 0.0
    lo = 0
    while lo < row.size:  # batches of peaks holding about _PAIR_BATCH pairs
        hi = int(np.searchsorted(pair_end, pair_end[lo] - rank[lo] + _PAIR_BATCH, "right"))
        hi = min(max(hi, lo + 1), row.size)
        r = rank[lo:hi]
        later = np.repeat(np.arange(lo, hi), r)
        stronger = first_of[later] + np.arange(later.size) - np.repeat(np.cumsum(r) - r, r)
        v1, v2 = value[later], value[stronger]
        f1, f2 = pos[later], pos[stronger]
        s = 0.24 / ((0.0207 * np.minimum(f1, f2)) + 18.96)
        df = np.abs(f2 - f1)
        z = np.exp(-3.51 * s * df) - np.exp(-5.75 * s * df)
        total += float(np.sum(((v1 * v2) ** 0.1) * (0.5 * (((2 * v2) / (v1 + v2)) ** 3.11)) * z))
        lo = hi
    return total

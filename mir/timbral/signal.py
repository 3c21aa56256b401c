"""The signal the timbral models read, as `timbral_util.file_read` and `loud_norm` of
timbral_models 0.4.0 give it: the channels summed (`channel_reduction`, the first three),
loudness-normalised to -24 LUFS with pyloudnorm's BS.1770 meter (to the last bit: a
rating can rest on an argmax among values equal to the last digit) and, below 44.1 kHz,
resampled to 44.1 kHz; read in blocks, so nothing of the track's length is held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.fft
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

from mir.family import Undefined

#: the lowest rate the package analyses at: slower signals are resampled to it
MIN_SR = 44100
#: samples of a signal processed at once by the streaming passes
BLOCK = 1 << 18
#: the package's loudness normalisation target, in LUFS
TARGET_LUFS = -24.0
Cached = Callable[[str, Callable[[], Any]], Any]


class MonoSignal:
    """The package's view of a signal: the channels summed to mono (the first three, if
    there are more), loudness-normalised to -24 LUFS (pyloudnorm's BS.1770 meter) and,
    below 44.1 kHz, resampled to 44.1 kHz. Read in pieces: nothing of the track's length
    is held but what the caller passes in."""

    def __init__(
        self, raw: Callable[[int, int], np.ndarray], n: int, sr: int, gain: float, divisor: float
    ):
        self._raw, self.n, self.sr, self.gain, self.divisor = raw, n, sr, gain, divisor

    def x(self, a: int, b: int) -> np.ndarray:
        """Samples a..b-1 in float64, zeros outside the signal (for the package's padding)."""
        lo, hi = max(a, 0), min(b, self.n)
        if lo >= hi:
            return np.zeros(b - a)
        y = self._raw(lo, hi).astype(np.float64) * self.gain
        if self.divisor != 1.0:
            y /= self.divisor
        if lo > a or hi < b:
            y = np.concatenate([np.zeros(lo - a), y, np.zeros(b - hi)])
        return y

    def blocks(self, size: int = BLOCK):
        for a in range(0, self.n, size):
            yield a, self.x(a, min(a + size, self.n))


def _mono_sum(samples: np.ndarray) -> np.ndarray:
    """`timbral_util.channel_reduction` without phase correction, in the input dtype."""
    if samples.ndim == 1:
        return samples
    if samples.shape[1] == 1:
        return samples[:, 0]
    out = samples[:, 0] + samples[:, 1]  # np.sum's order over so few channels
    if samples.shape[1] > 2:
        out += samples[:, 2]
    return out


#: pyloudnorm's 400 ms blocks summed at once
_LOUDNESS_BLOCKS = 256


def _integrated_loudness(raw: Callable[[int, int], np.ndarray], n: int, sr: int, dtype) -> float:
    """pyloudnorm's `Meter.integrated_loudness` of a mono signal as `loud_norm` calls it,
    to the last bit: the K-weighting stages filter a copy of the input in place (so in
    the input's precision between stages), each 400 ms block (75 % overlap) is an
    `np.sum` of squares, the -70 LUFS absolute and -10 LU relative gates. Filtered block
    by block (the state carried over), summed a few hundred blocks at a time. -inf when
    no block reaches the absolute gate (pyloudnorm's mean of no blocks is NaN).

    The bits matter: a rating can rest on an argmax among values equal to the last digit
    (depth's RMS peak of a steady tone), so the signal must be the package's exactly."""
    import pyloudnorm

    stages = list(pyloudnorm.Meter(sr)._filters.values())
    length = max(n, int(sr * 0.4))  # loud_norm zero-pads a signal shorter than a block
    t_g, step = 0.4, 1.0 - 0.75
    n_blocks = int(np.round((length / sr - t_g) / (t_g * step))) + 1
    j = np.arange(n_blocks)
    # the same float expressions as pyloudnorm's, truncated as its int() does
    lo = (t_g * (j * step) * sr).astype(np.int64)
    hi = np.minimum((t_g * (j * step + 1) * sr).astype(np.int64), length)
    states = [np.zeros(max(len(s.a), len(s.b)) - 1) for s in stages]
    z = np.zeros(n_blocks)
    buf, buf_start, done = np.zeros(0, dtype=dtype), 0, 0
    for j0 in range(0, n_blocks, _LOUDNESS_BLOCKS):
        j1 = min(j0 + _LOUDNESS_BLOCKS, n_blocks)
        pieces = [buf[int(lo[j0]) - buf_start :]]
        while done < hi[j1 - 1]:  # K-weight up to the last block's end
            b = min(done + BLOCK, length)
            y = np.zeros(b - done, dtype=dtype)
            if done < n:
                y[: min(b, n) - done] = raw(done, min(b, n))
            for i, stage in enumerate(stages):
                out, states[i] = scipy.signal.lfilter(stage.b, stage.a, y, zi=states[i])
                y = out.astype(dtype, copy=False)
            pieces.append(y)
            done = b
        buf, buf_start = np.concatenate(pieces), int(lo[j0])
        starts, widths = lo[j0:j1] - buf_start, hi[j0:j1] - lo[j0:j1]
        squares = np.square(buf)
        if np.all(np.diff(starts) == (starts[1] - starts[0] if starts.size > 1 else 0)) and (
            np.all(widths == widths[0])
        ):  # evenly spaced: one strided view, np.sum's pairwise order per row
            hop = int(starts[1] - starts[0]) if starts.size > 1 else 1
            rows = sliding_window_view(squares[starts[0] :], int(widths[0]))[::hop][: j1 - j0]
            sums = np.sum(rows, axis=1)
        else:
            sums = np.array(
                [np.sum(squares[s : s + w]) for s, w in zip(starts, widths, strict=True)]
            )
        z[j0:j1] = (1.0 / (t_g * sr)) * sums
    with np.errstate(divide="ignore", invalid="ignore"):
        loud = -0.691 + 10.0 * np.log10(z)
        gated = z[loud >= -70.0]
        if gated.size == 0:  # all below the absolute gate: no loudness (pyloudnorm: NaN)
            return -np.inf
        relative = -0.691 + 10.0 * np.log10(np.sum([np.mean(gated)])) - 10.0
        gated = z[(loud > relative) & (loud > -70.0)]
        return float(-0.691 + 10.0 * np.log10(np.sum([np.mean(gated)])))


#: why a signal cannot be rated: every sample zero ...
SILENCE = Undefined("digital silence: no sound to rate")
#: ... or sound too faint to measure
BELOW_GATE = Undefined(
    "no 400 ms block reaches -70 LUFS (BS.1770's absolute gate): the signal has no "
    "loudness to normalise to -24 LUFS, which the models rate from"
)


def _normalised(
    raw: Callable[[int, int], np.ndarray], n: int, sr: int, dtype
) -> tuple[float, float] | Undefined:
    """`loud_norm`: (gain to -24 LUFS, divisor: the normalised peak if above 1, else 1).

    :data:`SILENCE` for digital silence (the package raises); :data:`BELOW_GATE` where
    no block is above the -70 LUFS gate (the package's gain is then NaN, and so is every
    rating)."""
    peak = 0.0
    for a in range(0, n, BLOCK):
        peak = max(peak, float(np.max(np.abs(raw(a, min(a + BLOCK, n))))))
    if peak == 0.0:
        return SILENCE
    lufs = _integrated_loudness(raw, n, sr, dtype)
    if not np.isfinite(lufs):
        return BELOW_GATE
    gain = np.power(10.0, (TARGET_LUFS - lufs) / 20.0)
    top = max(float(np.max(np.abs(raw(a, min(a + BLOCK, n)) * gain))) for a in range(0, n, BLOCK))
    return float(gain), (top if top > 1.0 else 1.0)


def mono_signal(
    samples: np.ndarray, sr: int, cached: Cached, *, mono44=None
) -> MonoSignal | Undefined:
    """The package's `file_read` of `samples`: summed to mono, loudness-normalised at
    the native rate and, below 44.1 kHz, resampled (soxr, librosa's default). `mono44`,
    if given, returns the channel mean at 44.1 kHz (the track's shared intermediate):
    times the channel count it is the resampled sum, so it is used as it is.

    :data:`SILENCE` or :data:`BELOW_GATE` (:class:`~mir.family.Undefined`) where the
    signal cannot be normalised: then no model has anything to rate."""
    n = samples.shape[0]

    def raw(a: int, b: int) -> np.ndarray:
        return _mono_sum(samples[a:b])

    dtype = np.result_type(samples.dtype, np.float32)  # what pyloudnorm filters in
    normalisation = cached("timbral_gain", lambda: _normalised(raw, n, sr, dtype))
    if isinstance(normalisation, Undefined):
        return normalisation
    gain, divisor = normalisation
    if sr >= MIN_SR:
        return MonoSignal(raw, n, sr, gain, divisor)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    if mono44 is not None and channels <= 2:
        y = mono44()
        gain *= channels
    else:
        from mir.audio import resample

        y = cached(
            "timbral_mono44",
            lambda: resample(np.asarray(raw(0, n), dtype=np.float32), orig_sr=sr, target_sr=MIN_SR),
        )
    return MonoSignal(lambda a, b: y[a:b], y.shape[0], MIN_SR, gain, divisor)

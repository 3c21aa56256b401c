"""The eight Audio Commons timbral ratings of a sound, vectorised: brightness, depth,
hardness, roughness, warmth, sharpness, booming and reverberation.

The models are those of `timbral_models` 0.4.0 (Andy Pearce, Institute of Sound
Recording, University of Surrey, for the Audio Commons project; Apache License 2.0):
linear (reverberation: logistic) regressions, fitted to listening tests, over
descriptors of the spectrum, the envelope, the onsets and the ISO 532 B loudness of a
sound. The algorithms here follow that package's source step by step - the same
filters, spectrograms, sample-and-hold envelope, onset detection and pruning, loudness
normalisation (pyloudnorm, -24 LUFS), Zwicker loudness, peak picking and regression
coefficients - so the ratings are the package's (tests/test_timbral.py runs both; on
music they agree to the 4th decimal), but its per-sample and per-frame Python loops are
array operations and a track goes through in blocks. The cost grows linearly with the
duration (about 25x realtime on one core, the package about 2x) and the memory stays
bounded (about 6 bytes per sample at the peak, mostly the float32 envelope of onset
detection: under 1 GB for an hour of stereo), so whole tracks are analysed, not
excerpts.

Each model's function names the package function it follows. Where this module
deliberately differs:

* Super-linear steps of the package are linear here, with the same results. Its onset
  pruning deletes from arrays inside loops over the onsets and re-reads each segment
  up to the next kept onset (quadratic in the onsets); here one backward pass grows
  each segment from the last. Its backwards walk from each detected onset to the start
  of the attack (`return_loop`) can cross the same long quiet passage for every onset
  in it; the walk depends only on where it is, so here every position is walked from
  at most once (memoised). The sample-and-hold envelope, a per-sample recursion there,
  is computed exactly from running maxima and a pointer-doubled chain of hold points.
* Precision: the envelope, the spectra of onset detection, HPSS and hardness's
  bandwidth, and the spectra brightness and depth only take centroids from are float32
  (the package: float64): values differ in the 7th digit, far below what onset
  picking, the soft masks, the -75 dB bandwidth threshold or a centroid resolve. The
  signal itself, its loudness normalisation and its filters are the package's to the
  last bit (a rating can rest on an argmax among values equal to the last digit). The
  RT60 pre-selection's sub-frame variances come from running sums; where two are
  within 1e-5 they are recomputed as the package computes them (`np.var` in the
  input's precision), so that comparison is its own too.
* Where the package fails, this module goes on: a signal below the -70 LUFS gate is
  normalised by its ungated loudness (the package divides by zero); an onset whose
  envelope peaks at its first sample is left out of hardness (the package raises);
  onsets more than 100 ms out of order end the spacing pass (the package loops forever);
  a stereo signal below 44.1 kHz is resampled per channel for the reverberation model
  (the package resamples along the channel axis).
* A silent signal raises :class:`~mir.errors.AudioError` (the package: ValueError).

`timbral_of_audio` reads a decoded :class:`~mir.audio.Audio` as the package would read
its samples - the channels summed (the first three), at the track's rate, resampled to
44.1 kHz only below it - and keeps what it derives on the track (`audio.cached`, keys
"timbral_..."). Ratings are clamped to 0-100 and rounded to 4 decimals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.fft
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d, median_filter, minimum_filter1d

from mir.errors import AudioError

if TYPE_CHECKING:
    from mir.audio import Audio

#: keys, each on 0-100 (reverberation: probability x 100)
TIMBRAL_KEYS = (
    "brightness",
    "roughness",
    "hardness",
    "depth",
    "booming",
    "sharpness",
    "warmth",
    "reverberation",
)

#: the lowest rate the package analyses at: slower signals are resampled to it
MIN_SR = 44100
#: samples of a signal processed at once by the streaming passes
BLOCK = 1 << 18
#: the package's loudness normalisation target, in LUFS
TARGET_LUFS = -24.0

Cached = Callable[[str, Callable[[], Any]], Any]


# --------------------------------------------------------------------------- the signal


class _Mono:
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
    by block (the state carried over), summed a few hundred blocks at a time.

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
        if gated.size == 0:  # all below the absolute gate: the package divides by zero
            return float(-0.691 + 10.0 * np.log10(np.mean(z)))  # here: ungated loudness
        relative = -0.691 + 10.0 * np.log10(np.sum([np.mean(gated)])) - 10.0
        gated = z[(loud > relative) & (loud > -70.0)]
        return float(-0.691 + 10.0 * np.log10(np.sum([np.mean(gated)])))


def _normalised(
    raw: Callable[[int, int], np.ndarray], n: int, sr: int, dtype, *, name: str
) -> tuple[float, float]:
    """`loud_norm`: (gain to -24 LUFS, divisor: the normalised peak if above 1, else 1)."""
    peak = 0.0
    for a in range(0, n, BLOCK):
        peak = max(peak, float(np.max(np.abs(raw(a, min(a + BLOCK, n))))))
    if peak == 0.0:
        raise AudioError(name, "silent: the timbral models need sound")
    lufs = _integrated_loudness(raw, n, sr, dtype)
    gain = np.power(10.0, (TARGET_LUFS - lufs) / 20.0)
    top = max(float(np.max(np.abs(raw(a, min(a + BLOCK, n)) * gain))) for a in range(0, n, BLOCK))
    return float(gain), (top if top > 1.0 else 1.0)


# ---------------------------------------------------------------- filters and framing


def _butter_cascade(kind: str, freq: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """The package's `filter_audio_highpass/lowpass`: a 2nd-order Butterworth (it runs
    it three times, for -18 dB/octave)."""
    return scipy.signal.butter(2, freq / (0.5 * sr), kind)


class _Filter:
    """A filter run three times over a signal pushed block by block, as three `lfilter`
    passes over the whole signal (the state of each carried over: the same numbers)."""

    def __init__(self, ba: tuple[np.ndarray, np.ndarray]):
        self.b, self.a = ba
        self.zi = [np.zeros(2) for _ in range(3)]

    def __call__(self, y: np.ndarray) -> np.ndarray:
        for i in range(3):
            y, self.zi[i] = scipy.signal.lfilter(self.b, self.a, y, zi=self.zi[i])
        return y


def _dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Matrix times vector without BLAS: numpy's own loop, where a multithreaded BLAS
    spends more on its threads than on these small products."""
    return np.einsum("ij,j->i", matrix, vector)


class _Framer:
    """The complete frames (`size` samples every `hop`, from sample 0) of a signal pushed
    block by block: scipy's spectrogram framing without padding."""

    def __init__(self, size: int, hop: int):
        self.size, self.hop = size, hop
        self.buf = np.zeros(0)

    def _push(self, y: np.ndarray) -> tuple[np.ndarray, int]:
        buf = np.concatenate([self.buf, y]) if self.buf.size else y
        count = (buf.size - self.size) // self.hop + 1 if buf.size >= self.size else 0
        self.buf = buf[count * self.hop :]
        return buf, count

    def __call__(self, y: np.ndarray) -> np.ndarray:
        buf, count = self._push(y)
        if not count:
            return np.zeros((0, self.size), dtype=y.dtype)
        return sliding_window_view(buf, self.size)[:: self.hop][:count]

    def power(self, y: np.ndarray, window: np.ndarray) -> np.ndarray:
        """For each new frame, the sum over the one-sided bins of scipy's
        `spectrogram(..., window, detrend='constant', scaling='spectrum')`. With the
        one-sided doubling the bins add up to the full spectrum's, so by Parseval it is
        nfft * sum((window * (frame - mean))^2) / sum(window)^2: no FFT. The sums go by
        hop-long chunks (size = 4 hops), each chunk once per window quarter."""
        buf, count = self._push(y)
        if not count:
            return np.zeros(0)
        hop, parts = self.hop, self.size // self.hop
        chunks = buf[: (count + parts - 1) * hop].reshape(-1, hop)
        squares = chunks * chunks
        w2 = window * window
        sum_w2x2 = np.zeros(count)
        sum_w2x = np.zeros(count)
        sum_x = np.zeros(count)
        for q in range(parts):
            quarter = w2[q * hop : (q + 1) * hop]
            sum_w2x2 += _dot(squares[q : q + count], quarter)
            sum_w2x += _dot(chunks[q : q + count], quarter)
            sum_x += chunks[q : q + count].sum(axis=1)
        mean = sum_x / self.size
        energy = sum_w2x2 - 2.0 * mean * sum_w2x + mean * mean * w2.sum()
        return energy * self.size / window.sum() ** 2


# ------------------------------------------------ specific loudness (ISO 532 B), 4096 windows

_LAB_FREQ = np.array(
    [25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250]
    + [1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000, 20000]
)
_RAP = np.array([45, 55, 65, 71, 80, 90, 100, 120], dtype=float)
_DLL = np.array(
    [
        [-32, -24, -16, -10, -5, 0, -7, -3, 0, -2, 0],
        [-29, -22, -15, -10, -4, 0, -7, -2, 0, -2, 0],
        [-27, -19, -14, -9, -4, 0, -6, -2, 0, -2, 0],
        [-25, -17, -12, -9, -3, 0, -5, -2, 0, -2, 0],
        [-23, -16, -11, -7, -3, 0, -4, -1, 0, -1, 0],
        [-20, -14, -10, -6, -3, 0, -4, -1, 0, -1, 0],
        [-18, -12, -9, -6, -2, 0, -3, -1, 0, -1, 0],
        [-15, -10, -8, -4, -2, 0, -3, -1, 0, -1, 0],
    ],
    dtype=float,
)
_LTQ = np.array([30, 18, 12, 8, 7, 6, 5, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], dtype=float)
_A0 = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.5, -1.6, -3.2, -5.4, -5.6, -4, -1.5, 2, 5, 12])
_DCB = np.array(
    [-0.25, -0.6, -0.8, -0.8, -0.5, 0, 0.5, 1.1, 1.5, 1.7, 1.8, 1.8, 1.7, 1.6, 1.4, 1.2, 0.8]
    + [0.5, 0, -0.5]
)
_ZUP = np.array(
    [0.9, 1.8, 2.8, 3.5, 4.4, 5.4, 6.6, 7.9, 9.2, 10.6, 12.3, 13.8, 15.2, 16.7, 18.1, 19.3]
    + [20.6, 21.8, 22.7, 23.6, 24]
)
_RNS = np.array(
    [21.5, 18, 15.1, 11.5, 9, 6.1, 4.4, 3.1, 2.13, 1.36, 0.82, 0.42, 0.30, 0.22, 0.15, 0.10]
    + [0.035, 0]
)
_USL = np.array(
    [
        [13.0, 8.2, 6.3, 5.5, 5.5, 5.5, 5.5, 5.5],
        [9.0, 7.5, 6.0, 5.1, 4.5, 4.5, 4.5, 4.5],
        [7.8, 6.7, 5.6, 4.9, 4.4, 3.9, 3.9, 3.9],
        [6.2, 5.4, 4.6, 4.0, 3.5, 3.2, 3.2, 3.2],
        [4.5, 3.8, 3.6, 3.2, 2.9, 2.7, 2.7, 2.7],
        [3.7, 3.0, 2.8, 2.35, 2.2, 2.2, 2.2, 2.2],
        [2.9, 2.3, 2.1, 1.9, 1.8, 1.7, 1.7, 1.7],
        [2.4, 1.7, 1.5, 1.35, 1.3, 1.3, 1.3, 1.3],
        [1.95, 1.45, 1.3, 1.15, 1.1, 1.1, 1.1, 1.1],
        [1.5, 1.2, 0.94, 0.86, 0.82, 0.82, 0.82, 0.82],
        [0.72, 0.67, 0.64, 0.63, 0.62, 0.62, 0.62, 0.62],
        [0.59, 0.53, 0.51, 0.50, 0.42, 0.42, 0.42, 0.42],
        [0.40, 0.33, 0.26, 0.24, 0.24, 0.22, 0.22, 0.22],
        [0.27, 0.21, 0.20, 0.18, 0.17, 0.17, 0.17, 0.17],
        [0.16, 0.15, 0.14, 0.12, 0.11, 0.11, 0.11, 0.11],
        [0.12, 0.11, 0.10, 0.08, 0.08, 0.08, 0.08, 0.08],
        [0.09, 0.08, 0.07, 0.06, 0.06, 0.06, 0.06, 0.05],
        [0.06, 0.05, 0.03, 0.02, 0.02, 0.02, 0.02, 0.02],
    ]
)
#: windows of the loudness models (`timbral_util.window_audio`)
_LOUDNESS_WINDOW = 4096
#: windows whose loudness is computed at once
_LOUDNESS_BATCH = 512
_NS_SLOTS = 264  # the package builds at least 240 values of specific loudness


def _third_octave_levels(frames: np.ndarray, sr: int) -> np.ndarray:
    """`filter_third_octaves_downsample(x, 100, sr, 25, 12500, 4)` of each row: the 28
    band levels (25 Hz .. 12.5 kHz) in dB + 100; the top four bands by 8th-order
    Butterworth band-passes, the rest by the same three filters after halving the rate
    (Chebyshev anti-alias filter, every other sample) eight times."""
    nyquist = sr / 2.0
    top = np.flatnonzero(_LAB_FREQ == 12500)[0]
    while _LAB_FREQ[top] > nyquist:
        top -= 1
    j = np.arange(-16, 14)[: top + 1]
    ff = 2.0 ** (j / 3.0) * 1000
    levels = np.zeros((frames.shape[0], j.size))
    k = np.flatnonzero(j == 7)[0]

    def level(y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            db = 20 * np.log10(np.sqrt(np.sum(y**2.0, axis=1) / y.shape[1]))
        return np.where(np.max(y, axis=1) > 0, db, -np.inf)

    designs = {}
    for i in range(j.size - 1, k, -1):
        f1 = 2.0 ** (-1.0 / 6) * ff[i] / nyquist
        f2 = min(2.0 ** (1.0 / 6) * ff[i] / nyquist, 0.9999999999)
        designs[i] = scipy.signal.butter(4, [f1, f2], "bandpass")
        levels[:, i] = level(scipy.signal.lfilter(*designs[i], frames, axis=1))
    bands = [designs[k + 3], designs[k + 2], designs[k + 1]]
    c, d = scipy.signal.cheby1(2, 0.1, 0.4)
    x = frames
    for i in range(k, 1, -3):
        x = scipy.signal.lfilter(c, d, x, axis=1)[:, 1::2]
        for offset, (b, a) in enumerate(bands):
            levels[:, i - offset] = level(scipy.signal.lfilter(b, a, x, axis=1))
    return levels + 100.0


def _zwicker(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`specific_loudness`'s loudness model (Zwicker, ISO 532 B, free field) for each row
    of third-octave levels: (N_entire in sone, N_single: 240 values in sone/Bark at
    0.1 .. 24 Bark). The per-band state machine of the package runs for every window at
    once; each window keeps its own state and leaves the loop when the package's would."""
    w = levels.shape[0]
    p = levels
    xp = np.empty((w, 11))
    for i in range(11):
        climbs = p[:, i, None] > (_RAP[:7] - _DLL[:7, i])[None, :]
        jj = np.where(climbs.all(axis=1), 7, np.argmin(climbs, axis=1))
        xp[:, i] = p[:, i] + _DLL[jj, i]
    ti = 10.0 ** (xp / 10.0)
    gi = np.stack([ti[:, 0:6].sum(axis=1), ti[:, 6:9].sum(axis=1), ti[:, 9:11].sum(axis=1)], 1)
    with np.errstate(divide="ignore"):
        lcb = np.where(gi > 0, 10 * np.log10(np.where(gi > 0, gi, 1.0)), 0.0)
    le = p[:, 8:28].copy()
    le[:, :3] = lcb
    lk = le - _A0
    audible = le > _LTQ
    with np.errstate(over="ignore", invalid="ignore"):
        mp1 = 0.0635 * 10.0 ** (0.025 * _LTQ)
        mp2 = (1 - 0.25 + 0.25 * 10 ** (0.1 * (lk - _DCB - _LTQ))) ** 0.25 - 1
        nm = np.where(audible, np.maximum(mp1 * mp2, 0.0), 0.0)
    nm = np.concatenate([nm, np.zeros((w, 1))], axis=1)
    korry = np.minimum(0.4 + 0.32 * nm[:, 0] ** 0.2, 1.0)
    nm[:, 0] *= korry

    # state of the package's loop, one value per window
    n_sum = np.zeros(w)
    z1 = np.zeros(w)
    n1 = np.zeros(w)
    j = np.full(w, 17)
    iz = np.zeros(w, dtype=np.int64)
    z = np.full(w, 0.1)
    k = np.zeros(w)
    ns = np.zeros((w, _NS_SLOTS))
    ns_len = np.zeros(w, dtype=np.int64)
    rows = np.arange(w)
    for i in range(21):
        ig = i - 1 if i - 1 <= 7 else 7  # -1 for the first band: the package's last column
        act = rows
        while act.size:
            nmi = nm[act, i]
            n1a, z1a, za, ja = n1[act], z1[act], z[act], j[act]
            rise = n1a < nmi
            ja = np.where(rise, (_RNS[None, :] > nmi[:, None]).sum(axis=1), ja)
            flat = n1a <= nmi
            usl = _USL[ja, ig]
            # the sloped portion (where the loudness falls)
            n2s = np.maximum(_RNS[ja], nmi)
            with np.errstate(divide="ignore", invalid="ignore"):
                dz = np.round((n1a - n2s) / usl * 10) * 0.1
            dz = np.where(dz == 0, 0.1, dz)
            z2s = z1a + dz
            capped = z2s > _ZUP[i]
            z2s = np.where(capped, _ZUP[i], z2s)
            dz = np.where(capped, z2s - z1a, dz)
            n2s = np.where(capped, n1a - dz * usl, n2s)
            z2 = np.where(flat, _ZUP[i], z2s)
            n2 = np.where(flat, nmi, n2s)
            n_sum[act] += np.where(flat, n2 * (z2 - z1a), dz * (n1a + n2) / 2.0)
            # the values written for k in np.arange(z, z2 + 0.01, 0.1)
            count = np.maximum(np.ceil((z2 + 0.01 - za) / 0.1), 0).astype(np.int64)
            delta = (za + 0.1) - za  # numpy's arange steps by (start + step) - start
            m = np.arange(int(count.max()) if count.size else 0)
            kk = za[:, None] + m[None, :] * delta[:, None]
            valid = m[None, :] < count[:, None]
            advance = (valid & (kk < (z2 - 0.05)[:, None])).sum(axis=1)
            values = np.where(
                flat[:, None], n2[:, None], n1a[:, None] - (kk - z1a[:, None]) * usl[:, None]
            )
            # element m goes to slot iz + min(m, advance): the later write wins
            first = valid & (m[None, :] < advance[:, None])
            r, c = np.nonzero(first)
            ns[act[r], iz[act][r] + c] = values[r, c]
            tail = advance < count
            last = count - 1
            ns[act[tail], iz[act][tail] + advance[tail]] = values[tail, last[tail]]
            written = np.where(tail, advance + 1, advance)
            ns_len[act] = np.maximum(ns_len[act], iz[act] + written)
            iz[act] += advance
            has = count > 0
            k[act[has]] = kk[has, last[has]]
            z[act] = np.round(k[act] * 10) * 0.1
            ja = ja + (n2 == _RNS[ja])
            j[act] = np.minimum(ja, 17)
            n1[act] = n2
            z1[act] = np.round(z2 * 10) * 0.1
            act = act[z1[act] < _ZUP[i]]
    n_sum = np.maximum(n_sum, 0.0)
    n_entire = np.where(
        n_sum <= 16,
        np.floor(n_sum * 1000 + 0.5) / 1000.0,
        np.floor(n_sum * 100 + 0.05) / 100.0,
    )
    return n_entire, ns[:, :240]


def _bark_weights(low: int, high: int) -> np.ndarray:
    """The package's Gaussian-ish weighting of 0.1-Bark bands `low`..`high`-1, 0..1."""
    array = np.arange(low, high)
    mean, theta = (low + high) / 2.0, 0.01
    y = (1.0 / (theta * np.sqrt(2.0 * np.pi))) * np.exp(
        (-1.0 * ((array - mean) ** 2.0)) / 2.0 * (theta**2.0)
    )
    y -= np.min(y)
    y /= np.max(y)
    out = np.zeros(240)
    out[low:high] = y
    return out


def _booming_weights() -> tuple[np.ndarray, int]:
    """`boominess_calculate`'s weighting of the 240 bands and its index of 280 Hz."""
    z = np.arange(0.1, 24.05, 0.1)
    f = 600 * np.sinh(z / 6.0)
    log_fr = np.log10(_LAB_FREQ[:28])
    index = ((np.log10(f) - log_fr[0]) / float(log_fr[1] - log_fr[0])) + 1
    weights = 2.13 * np.exp(-0.151 * index)
    weights[:4] = [0.8, 1.05, 1.10, 1.18]
    return weights, int(np.flatnonzero(f >= 280)[0])


def _sharpness_weights() -> np.ndarray:
    """`sharpness_Fastl`'s g(z) * z * 0.1 for the 240 bands."""
    z = np.arange(141, 241)
    gzz = 0.00012 * (z / 10.0) ** 4 - 0.0056 * (z / 10.0) ** 3 + 0.1 * (z / 10.0) ** 2
    gz = np.concatenate([np.ones(140), gzz - 0.81 * (z / 10.0) + 3.5])
    return gz * np.arange(0.1, 240 / 10.0 + 0.1, 0.1) * 0.1


def _loudness_windows(src: _Mono) -> dict[str, np.ndarray]:
    """Per 4096-sample window of the signal (`window_audio`: the last one zero-padded, a
    whole window of zeros if the length is a multiple of 4096): its RMS and what the
    sharpness, booming, hardness and warmth models take from its specific loudness."""
    n_windows = src.n // _LOUDNESS_WINDOW + 1
    boom_w, below_280 = _booming_weights()
    sharp_w = _sharpness_weights()
    bands = {
        "bark_0_70": _bark_weights(0, 70),
        "bark_70_140": _bark_weights(70, 140),
        "warm_region": _bark_weights(10, 40),
        "high_freq": _bark_weights(80, 240),
    }
    out = {key: np.zeros(n_windows) for key in ("rms", "sharpness", "booming", *bands)}
    for w0 in range(0, n_windows, _LOUDNESS_BATCH):
        w1 = min(w0 + _LOUDNESS_BATCH, n_windows)
        frames = src.x(w0 * _LOUDNESS_WINDOW, w1 * _LOUDNESS_WINDOW).reshape(w1 - w0, -1)
        n_entire, ns = _zwicker(_third_octave_levels(frames, src.sr))
        sl = slice(w0, w1)
        out["rms"][sl] = np.sqrt(np.mean(frames * frames, axis=1))
        for key, weights in bands.items():
            out[key][sl] = _dot(ns, weights)
        sounding = n_entire > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            sharp = 0.11 * _dot(ns, sharp_w) / np.sum(ns * 0.1, axis=1)
            band_sum = 10 * np.log10(np.sum(10 ** ((ns * boom_w) / 10.0), axis=1))
            boom = band_sum * (np.sum(ns[:, :below_280], axis=1) / np.sum(ns, axis=1))
        out["sharpness"][sl] = np.where(sounding, sharp, 0.0)
        out["booming"][sl] = np.where(sounding, boom, 0.0)
    return out


def _sharpness(win: dict[str, np.ndarray]) -> float:
    """`timbral_sharpness`: Fastl's sharpness of each window, averaged with RMS^2 weights."""
    sharp = np.log10(np.average(win["sharpness"], weights=win["rms"] * win["rms"]))
    return 102.50508921364404 * sharp + 34.432655185001735


def _booming(win: dict[str, np.ndarray]) -> float:
    """`timbral_booming`: Hatano and Hashimoto's booming index of each window, averaged
    with RMS^2 weights, and the mean level of the lowest 7 Bark."""
    boom = np.log10(np.average(win["booming"], weights=win["rms"] * win["rms"]))
    low_level = np.log10(np.mean(win["bark_0_70"]))
    return 43.67402696195865 * boom - 10.90054738389845 * low_level + 26.836530575185435


# ------------------------------------------------------------ onset-detection spectrogram


#: onset-strength frames differenced at once
_STRENGTH_BLOCK = 4096


class _MelDb:
    """librosa's `onset_strength(y, sr)` front end, frames pushed in blocks: the power
    mel spectrogram (128 bands, Hann window of 2048, hop 512, centred, zero padding) in
    dB (float32), clipped 80 dB below its maximum at the end."""

    N_FFT, HOP = 2048, 512

    def __init__(self, n: int, sr: int):
        import librosa

        self.sr = sr
        self.basis = librosa.filters.mel(sr=sr, n_fft=self.N_FFT)
        self.window = scipy.signal.get_window("hann", self.N_FFT)
        self.db = np.empty((self.basis.shape[0], 1 + n // self.HOP), dtype=np.float32)
        self.filled = 0

    def push_spectrum(self, power: np.ndarray) -> None:
        """Add frames given as |STFT|^2, shape (frames, 1025)."""
        mel = power @ self.basis.T.astype(power.dtype)
        count = mel.shape[0]
        self.db[:, self.filled : self.filled + count] = (
            10.0 * np.log10(np.maximum(mel.dtype.type(1e-10), mel))
        ).T
        self.filled += count

    def push(self, frames: np.ndarray) -> None:
        spectrum = scipy.fft.rfft(frames * self.window.astype(frames.dtype), axis=1)
        self.push_spectrum(spectrum.real**2 + spectrum.imag**2)

    def strength(self) -> np.ndarray:
        """The onset strength envelope: librosa's `onset_strength(S=db)` (the mean over the
        bands of the positive differences from one frame to the next, delayed by three
        frames), taken a block of frames at a time instead of through full-size copies."""
        db = self.db[:, : self.filled]
        np.maximum(db, db.max() - np.float32(80.0), out=db)
        out = np.zeros(db.shape[1], dtype=db.dtype)
        for c0 in range(0, db.shape[1] - 3, _STRENGTH_BLOCK):
            c1 = min(c0 + _STRENGTH_BLOCK, db.shape[1] - 3)
            flux = np.maximum(0.0, db[:, c0 + 1 : c1 + 1] - db[:, c0:c1])
            out[c0 + 3 : c1 + 3] = np.mean(flux, axis=0)
        return out


def _centred_frames(src: _Mono, f0: int, f1: int, *, offset: int = 0) -> np.ndarray:
    """Frames f0..f1-1 of librosa's centred STFT framing (2048 samples, hop 512) of the
    signal delayed by `offset` zeros (the hardness model pads 4097 zeros in front)."""
    y = src.x(f0 * 512 - 1024 - offset, (f1 - 1) * 512 + 1024 - offset)
    return sliding_window_view(y, 2048)[::512]


# ---------------------------------------------------- brightness and depth (one pass)


def _hp20_peak(src: _Mono) -> float:
    """Peak of the signal high-passed at 20 Hz (three 2nd-order Butterworths), which
    brightness and depth normalise by."""
    hp = _Filter(_butter_cascade("high", 20, src.sr))
    peak = 0.0
    for _, y in src.blocks():
        peak = max(peak, float(np.max(np.abs(hp(y)))))
    return peak


def _spectral_power(frames: np.ndarray, window: np.ndarray, dtype=np.float64) -> np.ndarray:
    """One-sided `spectrogram(..., window, detrend='constant', scaling='spectrum')` of each
    frame (rows): |FFT|^2 / sum(window)^2, doubled but for DC and Nyquist. float32 where
    only centroids are taken (they differ from float64's in the 7th digit)."""
    frames = frames.astype(dtype, copy=False)
    spectrum = scipy.fft.rfft(frames * window.astype(dtype), axis=1)
    # removing the frame's mean first changes only the bins where the window's own
    # spectrum is not zero: DC and the first bin for the (periodic) Hamming window
    mean = frames.mean(axis=1, dtype=np.float64)
    lobe = scipy.fft.rfft(window)[:2]
    spectrum[:, :2] -= (mean[:, None] * lobe[None, :]).astype(spectrum.dtype)
    power = np.square(spectrum.real, dtype=np.float64)
    power += np.square(spectrum.imag, dtype=np.float64)
    power *= 1.0 / window.sum() ** 2
    power[:, 1:-1] *= 2
    return power


def _short_spectral_power(y: np.ndarray, nfft: int) -> np.ndarray:
    """The packages's spectrogram of a signal shorter than its FFT: one frame of the
    whole signal (its own Hamming window), zero-padded to `nfft`."""
    window = scipy.signal.get_window("hamming", y.size)
    spectrum = scipy.fft.rfft((y - y.mean()) * window, nfft)
    power = (spectrum.real**2 + spectrum.imag**2) / window.sum() ** 2
    power[1:-1] *= 2
    return power[None, :]


def _spectral_frames(src: _Mono) -> dict[str, Any]:
    """What brightness and depth take from the 20 Hz high-passed, peak-normalised signal
    (their `audio_samples`), in one pass after the one that finds the peak: the
    per-frame sums both models average, the summed spectrum of depth's pitch estimate
    and depth's decay times after each onset (onsets from the sample-and-hold envelope
    and the mel spectrogram, decays on the 256-sample RMS envelope)."""
    sr, n = src.sr, src.n
    hp_peak = _hp20_peak(src)
    scale = 1.0 / hp_peak
    hp20 = _Filter(_butter_cascade("high", 20, sr))
    streams = {
        "ratio_hp": _Filter(_butter_cascade("high", 2000, sr)),  # brightness
        "centroid_hp": _Filter(_butter_cascade("high", 100, sr)),  # brightness
        "centroid_lp": _Filter(_butter_cascade("low", 2000, sr)),  # depth
        "ratio_lp": _Filter(_butter_cascade("low", 500, sr)),  # depth
    }
    w_b = scipy.signal.get_window("hamming", 2048)
    w_d = scipy.signal.get_window("hamming", 4096)
    f_b = np.fft.rfftfreq(2048, 1.0 / sr)
    f_d = np.fft.rfftfreq(4096, 1.0 / sr)
    # frames every nfft - int(3 * nfft / 4) samples, the package's noverlap
    framers = {key: _Framer(2048, 512) for key in ("all_b", "ratio_hp", "centroid_hp")}
    framers.update({key: _Framer(4096, 1024) for key in ("all_d", "centroid_lp", "ratio_lp")})
    acc = {key: [] for key in ("b_all", "b_hp", "b_centroid", "b_centroid_power")}
    acc.update({key: [] for key in ("d_power", "d_centroid", "d_centroid_power", "d_ratio_power")})
    spectrum_sum = np.zeros(2049)
    mel = _MelDb(n, sr)
    mel_framer = _Framer(2048, 512)
    mel.push(mel_framer(np.zeros(1024, dtype=np.float32)))
    envelope = _HoldEnvelope(n, sr, peak=hp_peak * scale, decay_time=0.2)
    rms = np.zeros((n + 255) // 256)  # `calculate_rms_enveope`, 256 samples a step
    tiny = {"b": n < 2048, "d": n <= 4096}
    whole = {} if not (tiny["b"] or tiny["d"]) else {key: [] for key in ("all", *streams)}
    for a, x in src.blocks():
        u = hp20(x)
        y = u * scale
        filtered = {key: f(u) * scale for key, f in streams.items()}
        if whole:
            whole["all"].append(y)
            for key in streams:
                whole[key].append(filtered[key])
        envelope.push(y)
        mel.push(mel_framer(y.astype(np.float32)))
        full = y.size // 256 * 256  # (BLOCK is a multiple of 256)
        rows = y[:full].reshape(-1, 256)
        rms[a // 256 : (a + full) // 256] = np.sqrt(np.mean(rows * rows, axis=1))
        if full < y.size:  # the last, shorter step
            rms[-1] = np.sqrt(np.mean(y[full:] * y[full:]))
        # brightness: 2048-sample frames every 512
        acc["b_all"].append(framers["all_b"].power(y, w_b))
        acc["b_hp"].append(framers["ratio_hp"].power(filtered["ratio_hp"], w_b))
        p = _spectral_power(framers["centroid_hp"](filtered["centroid_hp"]), w_b, np.float32)
        acc["b_centroid"].append(_dot(p, f_b))
        acc["b_centroid_power"].append(p.sum(axis=1))
        # depth: 4096-sample frames every 1024
        p = _spectral_power(framers["all_d"](y), w_d)
        spectrum_sum += p.sum(axis=0)
        acc["d_power"].append(p.sum(axis=1))
        p = _spectral_power(framers["centroid_lp"](filtered["centroid_lp"]), w_d, np.float32)
        acc["d_centroid"].append(_dot(p, f_d))
        acc["d_centroid_power"].append(p.sum(axis=1))
        acc["d_ratio_power"].append(framers["ratio_lp"].power(filtered["ratio_lp"], w_d))
    mel.push(mel_framer(np.zeros(1024, dtype=np.float32)))
    out = {key: np.concatenate(v) if v else np.zeros(0) for key, v in acc.items()}
    if whole:  # shorter than an FFT: one frame of everything, as the package does
        sig = {key: np.concatenate(v) for key, v in whole.items()}
        if tiny["b"]:
            p_all = _short_spectral_power(sig["all"], 2048)
            p_hp = _short_spectral_power(sig["ratio_hp"], 2048)
            p_c = _short_spectral_power(sig["centroid_hp"], 2048)
            out["b_all"], out["b_hp"] = p_all.sum(axis=1), p_hp.sum(axis=1)
            out["b_centroid"], out["b_centroid_power"] = _dot(p_c, f_b), p_c.sum(axis=1)
        if tiny["d"]:
            p = _short_spectral_power(sig["all"], 4096)
            spectrum_sum = p.sum(axis=0)
            p_c = _short_spectral_power(sig["centroid_lp"], 4096)
            p_r = _short_spectral_power(sig["ratio_lp"], 4096)
            out["d_power"], out["d_centroid"] = p.sum(axis=1), _dot(p_c, f_d)
            out["d_centroid_power"], out["d_ratio_power"] = p_c.sum(axis=1), p_r.sum(axis=1)
    del whole, framers
    onsets = _onsets(mel.strength(), envelope.values, sr)
    del envelope, mel
    out.update(
        spectrum_sum=spectrum_sum,
        spectrum_freq=f_d,
        durations=_decay_times(rms * (1.0 / np.max(np.abs(rms))), onsets, sr),
    )
    return out


def _decay_times(rms: np.ndarray, onsets: list[int], sr: int) -> np.ndarray:
    """Depth's durations: from each onset's RMS peak (256-sample frames) to the first
    frame below -40 dB, or to the next onset, in seconds."""
    frames = (np.array(onsets) / 256.0).astype(np.int64)
    durations = []
    for i, onset in enumerate(frames):
        segment = rms[onset:] if onset == frames[-1] else rms[onset : frames[i + 1]]
        after = segment[int(np.argmax(segment)) :]
        below = np.flatnonzero(after < 10 ** (-40 / 20.0))
        durations.append((below[0] if below.size else after.size) / (sr / 256.0))
    return np.array(durations)


def _brightness(d: dict[str, Any]) -> float:
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


# ------------------------------------------------------------- sample-and-hold envelope


def _first_at_least(
    table: list[np.ndarray], start: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """For each query, the first index i >= start with values[i] >= threshold (len if
    none), by binary lifting over a sparse table of maxima (table[l][i] = max of
    values[i : i + 2**l])."""
    size = table[0].size
    idx = start.copy()
    for level in range(len(table) - 1, -1, -1):
        step = 1 << level
        ok = idx + step <= size
        cand = idx[ok]
        skip = table[level][np.minimum(cand, size - step)] < threshold[ok]
        idx[np.flatnonzero(ok)[skip]] += step
    found = idx < size
    found[found] = table[0][idx[found]] >= threshold[found]
    return np.where(found, idx, size)


def _max_table(values: np.ndarray) -> list[np.ndarray]:
    table = [values]
    step = 1
    while 2 * step <= values.size:
        prev = table[-1]
        table.append(np.maximum(prev[: prev.size - step], prev[step:]))
        step *= 2
    return table


class _HoldEnvelope:
    """`sample_and_hold_envelope_calculation` of a signal pushed block by block, into a
    float32 array (with `front` leading zeros: the envelope of a zero-padded signal).

    The package's recursion, per sample: a sample at or above the previous envelope value
    starts a new hold (the envelope takes its value and keeps it `hold_time` seconds);
    after the hold the envelope falls by `peak / (decay_time * sr)` per sample, or follows
    the signal if that is higher (without a new hold). So the envelope is the maximum of
    the lines each sample starts - flat then falling for the "hold" samples, falling for
    the others - and the hold samples are a chain: after one at m, the next is the first
    sample that reaches m's line. Here: the no-hold lines by one running maximum, the
    samples that can reach them as candidates, the chain's next link for every candidate
    by binary search over sparse tables of maxima, the chain itself by pointer doubling.
    Exact, O(n log n) in the candidates; the state (last value, hold counter) carries
    the recursion from block to block."""

    def __init__(self, n: int, sr: int, *, peak: float, decay_time: float, front: int = 0):
        self.decay = peak / (decay_time * sr)
        self.hold = int(np.ceil(0.01 * sr))  # the package counts `counter < hold_time * sr`
        self.buffer = np.zeros(front + n, dtype=np.float32)
        self.values = self.buffer[front:]
        self.at = 0
        self.last, self.counter = 0.0, 0

    def push(self, y: np.ndarray) -> None:
        env, self.last, self.counter = self._block(np.abs(y), self.last, self.counter)
        self.values[self.at : self.at + y.size] = env
        self.at += y.size

    def _block(self, a: np.ndarray, p: float, c: int) -> tuple[np.ndarray, float, int]:
        size, d, hold = a.size, self.decay, self.hold
        dj = d * np.arange(size, dtype=np.float64)
        hold_left = max(hold - c, 0)  # samples the carried-in value is still held
        # the envelope without new holds, max over m <= j of a[m] - d (j - m) and the
        # carried-in line (p for hold_left samples, then falling): a running maximum of
        # a[m] + d m, the carried-in line entering as p + d min(j, hold_left - 1)
        rise = a + dj
        if hold_left:
            np.maximum(rise[:hold_left], p + dj[:hold_left], out=rise[:hold_left])
        else:
            rise[0] = max(rise[0], p - d)
        free = np.maximum.accumulate(rise) - dj
        candidate = np.empty(size, dtype=bool)
        candidate[0] = a[0] >= p
        np.greater_equal(a[1:], free[:-1], out=candidate[1:])
        pos = np.flatnonzero(candidate)
        k = pos.size
        # the next hold after one at pos[i] (value v, held up to sample e): the first
        # candidate j > pos[i] with a[j] >= v while j <= e, or a[j] >= v - d (j - e)
        value = a[pos]
        tables = (_max_table(value), _max_table(value + d * pos)) if k else None

        def following(start, v, e):
            plateau_end = np.searchsorted(pos, e, side="right")
            first = _first_at_least(tables[0], start, v)
            first = np.where(first < plateau_end, first, k)
            later = _first_at_least(tables[1], plateau_end, v + d * e)
            return np.minimum(first, later)

        if k:
            nxt = np.append(following(np.arange(1, k + 1), value, pos + hold + 1), k)
            chain = following(np.zeros(1, dtype=np.int64), np.array([p]), np.array([hold_left]))
            jump = nxt
            while True:  # the chain from the carried-in state, by pointer doubling
                chain = np.union1d(chain, jump[chain])
                if (jump[:k] == k).all():
                    break
                jump = jump[jump]
            holds = pos[chain[chain < k]]
        else:
            holds = pos
        env = free
        if holds.size:  # the line of the last hold: a[m] until m + hold, then falling
            first = int(holds[0])
            spans = np.diff(np.append(holds, size))
            level = np.repeat(a[holds], spans)
            falling = np.repeat(a[holds] + d * (holds + hold), spans) - dj[first:]
            np.maximum(env[first:], np.minimum(level, falling), out=env[first:])
        if holds.size:
            counter = min(size - 1 - int(holds[-1]), hold)
        else:
            counter = min(c + size, hold)
        return env, float(env[-1]), counter


# ----------------------------------------------------------------------------- onsets


def _walk_back(
    env: np.ndarray,
    onset: int,
    look_back: int,
    hyst_samples: int,
    hyst_thr: float,
    nperseg: int,
    memo: dict[int, int],
) -> int:
    """`return_loop`: from a detected onset, walk back along the envelope to where the
    attack starts (through dips within 20 ms, and through rises smaller than the
    hysteresis threshold within 300 ms); 0 if that comes within `nperseg` of the start.

    The walk depends only on where it is, so every position it passes is remembered with
    its end: a later onset whose walk reaches one stops there. Each position is walked
    from at most once over all onsets, which bounds the work by the signal's length
    (the package's walks can each cross the same long quiet passage again)."""
    path = []
    loc = onset
    result = None
    while result is None:
        if loc in memo:
            result = memo[loc]
            break
        path.append(loc)
        current = env[loc]
        lo = loc - look_back - 1
        window = env[lo:loc] if loc - look_back > 0 else env[: loc - 1]
        if window.size and window.min() <= current:
            new = int(np.argmin(window)) + lo
            if new > nperseg:
                loc = new
            else:
                result = 0
            continue
        lo = loc - hyst_samples - 1
        hyst = env[lo:loc] if lo > 0 else env[:loc]
        lower = np.flatnonzero(hyst < env[loc])
        if lower.size == 0:
            result = loc
            break
        last = int(lower[-1])
        rest = hyst[last:]
        if float(rest.max()) - float(rest.min()) >= hyst_thr:
            result = loc
        elif loc - hyst.size + last >= nperseg:
            loc = loc - hyst.size + last
        else:
            result = 0
    for p in path:
        memo[p] = result
    return result


class _Range:
    """Max, first argmax and the minimum before it of a growing range env[lo:hi]."""

    __slots__ = ("lo", "hi", "top", "at", "before")

    def __init__(self, lo: int, hi: int):
        self.lo, self.hi, self.top, self.at, self.before = lo, hi, -np.inf, hi, np.inf

    def extend_left(self, env: np.ndarray, lo: int) -> None:
        piece = env[lo : self.lo]
        if piece.size:
            at = int(np.argmax(piece))
            top = float(piece[at])
            if top >= self.top:  # the first maximum is in the new piece
                self.top, self.at = top, lo + at
                self.before = float(piece[:at].min()) if at else np.inf
            else:
                self.before = min(float(piece.min()), self.before)
        self.lo = lo


def _onsets(strength: np.ndarray, env: np.ndarray, sr: int, *, nperseg: int = 512) -> list[int]:
    """`calculate_onsets`: librosa's onsets (backtracked, in samples), each walked back to
    the start of its attack on the envelope, then pruned: duplicates; onsets whose
    segment (to the next kept onset) rises by less than 10 % of the envelope's range;
    onsets within 100 ms of the previous one; onsets whose segment's onset strength
    stays below 3. [0] if none remain.

    The package prunes with deletions inside loops over the onsets and re-reads each
    segment up to the next kept onset, quadratic in the onsets; here the kept onsets are
    found in one backward pass that grows each segment from the previous one."""
    import librosa

    detected = librosa.onset.onset_detect(
        onset_envelope=strength, sr=sr, hop_length=512, backtrack=True, units="samples"
    )
    if not np.size(detected):
        return [0]
    look_back = int(20 * 0.001 * sr)
    hyst_samples = int(300 * sr * 0.001)
    dyn_range = float(env.max()) - float(env.min())
    hyst_thr = dyn_range * 10 * 0.01
    memo: dict[int, int] = {}
    walked: list[int] = []
    for onset in detected:
        if onset > 0:
            if not walked or onset + 511 < env.size:
                walked.append(
                    _walk_back(env, int(onset), look_back, hyst_samples, hyst_thr, nperseg, memo)
                )
        else:
            walked.append(0)
    onsets = np.array(walked, dtype=np.int64)
    zeros = np.flatnonzero(onsets == 0)
    if zeros.size and zeros[0] == 0:
        zeros = zeros[1:]
    onsets = np.delete(onsets, zeros)
    _, first = np.unique(onsets, return_index=True)
    onsets = onsets[np.sort(first)]

    if onsets.size > 1:  # the rise of each segment against 10 % of the range
        threshold = 10 * dyn_range * 0.01
        keep = np.ones(onsets.size, dtype=bool)
        seg = _Range(env.size, env.size)
        for i in range(onsets.size - 1, -1, -1):
            o = int(onsets[i])
            if o <= seg.lo:
                seg.extend_left(env, o)
                top, at, before = seg.top, seg.at, seg.before
            elif o < seg.hi:  # an onset out of order: its segment read anew
                part = env[o : seg.hi]
                at = o + int(np.argmax(part))
                top, before = float(part.max()), float(part[: at - o].min()) if at > o else 0
            else:
                top, at = 0.0, o
            length = seg.hi - o
            if length > 1 and at > o and top - before >= threshold:
                seg = _Range(o, o)
            else:
                keep[i] = False
        onsets = onsets[keep]

    if onsets.size > 1:  # onsets within 100 ms of the previous one go
        separation = sr * 0.001 * 100
        while onsets.size > 1 and np.diff(onsets).min() < separation:
            close = np.abs(np.diff(onsets)) < separation
            if not close.any():  # out of order by more than 100 ms: the package loops forever
                break
            onsets = onsets[np.r_[True, ~close]]

    frames = (onsets / 512).astype(np.int64)  # the onset strength must reach 3
    keep = np.zeros(onsets.size, dtype=bool)
    end, top, lo = strength.size, -np.inf, strength.size
    for i in range(onsets.size - 1, -1, -1):
        f = int(frames[i])
        if f <= lo:
            if lo > f:
                top = max(top, float(strength[f:lo].max()))
            lo = f
            seg_top = top
        else:
            seg_top = float(strength[f:end].max()) if f < end else -np.inf
        if seg_top >= 3:
            keep[i] = True
            end, top, lo = f, -np.inf, f
    kept = sorted(int(o) for o in onsets[keep])
    return kept or [0]


# ------------------------------------------------------------------------ peak picking


def _peaks(array: np.ndarray, unprocessed: np.ndarray, freq: np.ndarray, cthr: float):
    """`detect_peaks` (the MIR toolbox's `mirpeaks` with contrast `cthr`) of each row of
    `array`: flat arrays (row, value, position, index) of every peak, by row and within a
    row strongest first; the value is `unprocessed`'s and the position `freq`'s, both
    parabolically interpolated.

    The candidates of all rows go through the package's left-to-right scan together,
    one candidate rank at a time."""
    rows, width = array.shape
    app = np.full((rows, width + 2), -2.0)
    app[:, 1:-1] = array
    un = np.full((rows, width + 2), -2.0)
    un[:, 1:-1] = unprocessed
    fa = np.concatenate([[-1.0], freq, [-1.0]])
    diff = np.diff(app, axis=1)
    is_max = (array >= cthr) & (diff[:, :-1] > 0) & (diff[:, 1:] <= 0)
    r, c = np.nonzero(is_max)
    c = c + 1  # positions in the appended rows
    counts = np.bincount(r, minlength=rows)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(r.size) - starts[r]
    # the minimum of the appended row between consecutive candidates
    # (the package's slice [mx[jj-1] : mx[jj]-1])
    flat = app.ravel()
    base = r * (width + 2)
    valley = np.full(r.size, 2.0)
    pairs = np.flatnonzero(rank > 0)
    if pairs.size:
        lo = base[pairs - 1] + c[pairs - 1]
        hi = base[pairs] + c[pairs] - 1
        valley[pairs] = np.minimum.reduceat(flat, np.stack([lo, hi], axis=1).ravel())[::2]
    level = app[r, c]
    max_rank = int(counts.max()) if r.size else 0
    accepted = np.zeros(r.size, dtype=bool)
    has = counts > 0
    rows_with = np.flatnonzero(has)
    j = starts.copy()  # index (into the candidate list) of the current peak of each row
    bufmax = np.zeros(rows)
    bufmax[rows_with] = level[starts[rows_with]]
    bufmin = np.full(rows, 2.0)
    oldbufmin = np.full(rows, -2.0)  # min(app[:mx0 - 1]) always meets the -2 in front
    for rk in range(1, max_rank):
        live = rows_with[counts[rows_with] > rk]
        cand = starts[live] + rk
        bmin = np.minimum(bufmin[live], valley[cand])
        bmax, omin, jj = bufmax[live], oldbufmin[live], j[live]
        lev = level[cand]
        notch = bmax - bmin >= cthr
        # no contrastive notch: a higher candidate takes over, a lower one is merged
        higher = ~notch & (lev > bmax)
        lower = ~notch & ~higher & (lev - bmax <= 0)
        # contrastive notch: the current peak is kept if it stands out
        keep_prev = notch & (bmax - omin >= cthr)
        accepted[jj[keep_prev]] = True
        new_omin = np.where(
            notch,
            np.where(keep_prev, bmin, np.minimum(omin, bmin)),
            np.where(higher | lower, np.minimum(omin, bmin), omin),
        )
        new_bmax = np.where(notch | higher, lev, np.where(lower, np.maximum(bmax, lev), bmax))
        new_j = np.where(notch | higher, cand, jj)
        new_bmin = np.where(notch | higher, 2.0, bmin)
        bufmax[live], oldbufmin[live], j[live], bufmin[live] = new_bmax, new_omin, new_j, new_bmin
    last_ok = has & (bufmax - oldbufmin >= cthr)  # min(app[mx[j]+1:]) is the -2 at the end
    accepted[j[last_ok]] = True
    sel = np.flatnonzero(accepted)
    row, mx = r[sel], c[sel]
    order = np.lexsort((-app[row, mx], row))  # by row, strongest first
    row, mx = row[order], mx[order]
    y0 = un[row, mx]
    ym = un[row, mx - 1]
    yp = un[row, np.minimum(mx + 1, width + 1)]
    inner = (mx > 1) & (mx < width)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (yp - ym) / (2 * (2 * y0 - yp - ym))
    value = np.where(inner, y0 - 0.25 * (ym - yp) * p, y0)
    f0, fp, fm = fa[mx], fa[np.minimum(mx + 1, width + 1)], fa[mx - 1]
    pos = np.where(inner, np.where(p >= 0, (1 - p) * f0 + p * fp, (1 + p) * f0 - p * fm), f0)
    return row, value, pos, mx - 1


# ---------------------------------------------------------------------------- the models


def _depth(d: dict[str, Any]) -> float:
    """`timbral_depth`: below-2-kHz centroid and below-500-Hz power ratio (power-weighted
    over 4096-sample frames, frames under -60 dB counting as 0), the mean decay time of
    the onsets' RMS envelope to -40 dB, and the lowest peak of the summed spectrum."""
    threshold = 10 ** (-60 / 20.0)
    power = d["d_power"]
    loud = power > threshold
    with np.errstate(divide="ignore", invalid="ignore"):
        centroid = np.where(loud, d["d_centroid"] / d["d_centroid_power"], 0.0)
        ratio = np.where(loud, d["d_ratio_power"] / power, 0.0)
    lower_centroid = np.average(centroid, weights=power)
    lower_centroid = min(lower_centroid, np.float64(2000))
    lower_ratio = np.average(ratio, weights=power)
    with np.errstate(divide="ignore"):
        duration = np.log10(np.mean(d["durations"]))

    spectrum = d["spectrum_sum"]
    norm = (spectrum - spectrum.min()) / (spectrum.max() - spectrum.min())
    _, _, pos, _ = _peaks(norm[None, :], norm[None, :], d["spectrum_freq"], 0.01)
    pitch = np.log10(pos.min()) if pos.size and pos[0] > 0 else 0.0

    sig = lower_ratio**10 / (lower_ratio**10 + 0.2)
    metrics = np.array(
        [lower_centroid, lower_ratio, duration, pitch, lower_ratio * duration, sig * duration, 1.0]
    )
    coefficients = np.array(
        [-0.0043703565847874465, 32.83743202462131, 4.750862716905235, -14.217438690256062]
        + [3.8782339862813924, -0.8544826091735516, 66.69534393444391]
    )
    return float(np.sum(metrics * coefficients))


#: 50 ms roughness frames computed at once
_ROUGHNESS_BATCH = 512
#: pairs of spectral peaks weighed at once
_PAIR_BATCH = 1 << 20


class _RoughnessFrames:
    """`timbral_roughness`'s spectrogram of the signal with 512 zeros in front: 50 ms
    frames (symmetric Hamming window) every 25 ms (rounded down), |FFT| zero-padded to the
    next power of two. The package allocates `count` frames; those past the last whole
    frame stay empty (zeros) and count in the mean."""

    def __init__(self, src: _Mono):
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


def _roughness(src: _Mono) -> float:
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
    total = 0.0
    for spec in frames.batches():
        row, value, pos, _ = _peaks((spec - bottom) / (top - bottom), spec, frames.freq, 0.01)
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


# -------------------------------------------------------------- warmth and hardness

#: the zeros `timbral_hardness` puts in front of the signal (nperseg + 1)
_HARD_PAD = 4097
#: STFT frames of the HPSS and onset passes computed at once
_STFT_BATCH = 1024
_MEDIAN = 31  # librosa's HPSS kernel
#: bandwidth frames computed at once (small batches stay in the cache)
_BANDWIDTH_BATCH = 512


def _median_rows(m: np.ndarray, edge_lo: bool, edge_hi: bool) -> np.ndarray:
    """31-point running median along each row (scipy's 'reflect' = symmetric padding at
    the rows' true ends, `edge_lo`/`edge_hi`; elsewhere the rows carry 15 values of
    context and the outputs there are not used), by one 1-d median filter over the rows
    laid end to end."""
    h = _MEDIAN // 2
    rows, width = m.shape
    padded = np.pad(m, ((0, 0), (h, 0)), mode="symmetric" if edge_lo else "edge")
    padded = np.pad(padded, ((0, 0), (0, h)), mode="symmetric" if edge_hi else "edge")
    out = median_filter(padded.ravel(), size=_MEDIAN, mode="nearest")
    return out.reshape(rows, width + 2 * h)[:, h : h + width]


def _onset_features(src: _Mono) -> dict[str, Any]:
    """What warmth and hardness take from the normalised signal: the onsets of each
    (`calculate_onsets` on the sample-and-hold envelope, decay 0.1 s, and librosa's
    onset strength; hardness's signal has 4097 zeros in front), the harmonic-percussive
    ratio, and hardness's per-onset measures (:func:`_hardness_onsets`). The spectra here
    are float32: the package's float64 differs in the 7th digit, far below what onset
    picking, the HPSS masks or the -75 dB bandwidth threshold see."""
    n, sr = src.n, src.sr
    peak = max(float(np.max(np.abs(x))) for _, x in src.blocks())
    env = _HoldEnvelope(n, sr, peak=peak, decay_time=0.1, front=_HARD_PAD)
    for _, x in src.blocks():
        env.push(x)
    mel = _MelDb(n, sr)
    p_rms, h_rms = _percussive_rms(src, 1 + n // 512, mel)
    sounding = (p_rms != 0) | (h_rms != 0)
    hp_ratio = np.sum(p_rms[sounding]) / np.sum(p_rms[sounding] + h_rms[sounding])
    warmth_onsets = _onset_list(mel.strength(), env.values, sr)
    del mel
    mel = _MelDb(n + _HARD_PAD, sr)  # hardness's padded signal
    n_frames = 1 + (n + _HARD_PAD) // 512
    for f0 in range(0, n_frames, _STFT_BATCH):
        f1 = min(f0 + _STFT_BATCH, n_frames)
        mel.push(_centred_frames(src, f0, f1, offset=_HARD_PAD).astype(np.float32))
    strength = mel.strength()
    del mel
    hardness_onsets = _onset_list(strength, env.buffer, sr)
    return {
        "warmth_onsets": warmth_onsets,
        "hp_ratio": hp_ratio,
        **_hardness_onsets(src, env.buffer, strength, _bandwidth(src), hardness_onsets),
    }


def _percussive_rms(src: _Mono, n_frames: int, mel: _MelDb) -> tuple[np.ndarray, np.ndarray]:
    """`get_percussive_audio`'s RMS envelopes (1024 samples every 512) of librosa's
    percussive and harmonic parts (`hpss`: 31-point medians across time and frequency,
    soft masks; `istft`); the STFT's power also goes to the onset mel spectrogram.

    The masks add up to one, so the harmonic part is the signal minus the percussive
    (librosa's istft of the unmasked STFT gives the signal back exactly): one inverse
    transform instead of two. Blocks of frames carry 16 frames of context each side for
    the medians across time."""
    window = scipy.signal.get_window("hann", 2048).astype(np.float32)
    quarters = [window[512 * q : 512 * (q + 1)] ** 2 for q in range(4)]
    length = 512 * (n_frames - 1)  # what librosa's istft returns
    chunks_p = np.zeros(length // 512)
    chunks_h = np.zeros(length // 512)
    h = _MEDIAN // 2
    for f0 in range(0, n_frames, _STFT_BATCH):
        f1 = min(f0 + _STFT_BATCH, n_frames)
        g0, g1 = max(f0 - 1 - h, 0), min(f1 + 2 + h, n_frames)
        frames = _centred_frames(src, g0, g1).astype(np.float32)
        spectrum = scipy.fft.rfft(frames * window, axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        mel.push_spectrum(power[f0 - g0 : f1 - g0])
        mag = np.sqrt(power)
        harm = _median_rows(np.ascontiguousarray(mag.T), g0 == 0, g1 == n_frames).T
        perc = _median_rows(mag, True, True)
        # frames m0..m1-1 reach samples 512 f0 .. 512 f1 (frame m: 512 m - 1024 + 2048)
        m0, m1 = max(f0 - 1, 0), min(f1 + 2, n_frames)
        hm, pm = harm[m0 - g0 : m1 - g0], perc[m0 - g0 : m1 - g0]
        # librosa's soft mask P^2 / (P^2 + H^2), 1/2 where both vanish
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = hm / pm
            mask = 1.0 / (1.0 + ratio * ratio)
        mask[np.maximum(hm, pm) < np.finfo(np.float32).tiny] = 0.5
        out = scipy.fft.irfft(spectrum[m0 - g0 : m1 - g0] * mask, 2048, axis=1) * window
        # overlap-add by quarters: chunk j (samples 512 j ..) = quarter q of frame j + 2 - q
        a, b = f0, min(f1, length // 512)
        if b <= a:
            continue
        y = np.zeros((b - a, 512), dtype=np.float32)
        wss = np.zeros((b - a, 512), dtype=np.float32)
        for q in range(4):
            lo, hi = max(a + 2 - q, m0), min(b + 2 - q, m1)
            if lo < hi:
                y[lo - (a + 2 - q) : hi - (a + 2 - q)] += out[
                    lo - m0 : hi - m0, 512 * q : 512 * (q + 1)
                ]
                wss[lo - (a + 2 - q) : hi - (a + 2 - q)] += quarters[q]
        nonzero = wss > np.finfo(np.float32).tiny
        y[nonzero] /= wss[nonzero]
        x = src.x(512 * a, 512 * b).reshape(-1, 512)
        chunks_p[a:b] = np.sum(np.square(y, dtype=np.float64), axis=1)
        chunks_h[a:b] = np.sum(np.square(x - y), axis=1)
    if chunks_p.size >= 2:
        return np.sqrt((chunks_p[:-1] + chunks_p[1:]) / 1024), np.sqrt(
            (chunks_h[:-1] + chunks_h[1:]) / 1024
        )
    return np.sqrt(chunks_p / max(length, 1)), np.sqrt(chunks_h / max(length, 1))


def _bandwidth(src: _Mono) -> np.ndarray:
    """`get_bandwidth_array` of hardness's padded signal: per 4096-sample frame every
    128 (boxcar window, scipy's density-scaled magnitude), the span from the 5 % power
    roll-on to the last bin above -75 dB; 0 for frames under 10 % of the power range."""
    sr = src.sr
    n_bw = (src.n + _HARD_PAD - 4096) // 128 + 1 if src.n + _HARD_PAD >= 4096 else 0
    freq = np.fft.rfftfreq(4096, 1.0 / sr)
    scale = np.sqrt(1.0 / (sr * 4096))  # scipy's density scaling of the magnitude
    threshold = np.float32(10 ** (-75 / 20.0) / scale)
    power = np.zeros(n_bw)
    width = np.zeros(n_bw)
    head, tail = 256, 256  # most roll-ons are low, most roll-offs high: look there first
    for f0 in range(0, n_bw, _BANDWIDTH_BATCH):
        f1 = min(f0 + _BANDWIDTH_BATCH, n_bw)
        y = src.x(128 * f0 - _HARD_PAD, 128 * (f1 - 1) + 4096 - _HARD_PAD).astype(np.float32)
        mag = np.abs(scipy.fft.rfft(sliding_window_view(y, 4096)[::128], axis=1))
        mag[:, 0] = 0.0  # removing the mean (boxcar window) only empties the DC bin
        total = mag.sum(axis=1, dtype=np.float64)
        reach = (total * 0.05)[:, None]
        low = np.cumsum(mag[:, :head], axis=1)
        rollon = np.argmax(low >= reach, axis=1)
        late = np.flatnonzero(low[:, -1] < reach[:, 0])
        if late.size:
            rollon[late] = np.argmax(np.cumsum(mag[late], axis=1) >= reach[late], axis=1)
        above = mag[:, -tail:] >= threshold
        found = above.any(axis=1)
        rolloff = mag.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
        early = np.flatnonzero(~found)
        if early.size:
            rest = mag[early] >= threshold
            found[early] = rest.any(axis=1)
            rolloff[early] = mag.shape[1] - 1 - np.argmax(rest[:, ::-1], axis=1)
        power[f0:f1] = total * scale
        width[f0:f1] = np.where(found, freq[rolloff] - freq[rollon], 0.0)
    if not n_bw:
        return np.zeros(0)
    floor = 0.1 * (power.max() - power.min()) + power.min()
    return np.where(power > floor, width, 0.0)


def _attack(env: np.ndarray, sr: float, *, fixed: bool, max_time: float = 0.1):
    """`calculate_attack_time` (normalised, attack segment from the minimum before the
    peak): (log10 attack time in s, index of the attack start) or None where the
    package returns 0 (the peak is the first value). `fixed`: the 20 %-90 % thresholds
    ('fixed_threshold'), else the CUIDADO minimum-effort thresholds ('min_effort')."""
    env = env / float(np.max(env))
    peak = int(np.argmax(env))
    if peak == 0:
        return None
    before = env[:peak]
    start = int(np.flatnonzero(before == before.min())[-1])
    seg = env[start : peak + 1]
    low, top = float(seg.min()), float(seg.max())
    dyn = top - low
    if fixed:
        th_start = int(np.argmax(seg >= (20 * dyn * 0.01) + low))
        th_end = int(np.argmax(seg[th_start:] >= (90 * dyn * 0.01) + low)) + th_start
    else:
        levels = np.linspace(1.0 / 10, 1 - 1.0 / 10, 9) * dyn + low
        idx = np.argmax(seg[None, :] >= levels[:, None], axis=1).astype(np.float64)
        effort = np.diff(idx)
        limit = np.mean(effort) * 3
        first = int(np.argmax(effort <= limit))
        last = int(np.argmax(effort[first:] >= limit))
        if last == 0:
            last = effort[first:].size - 1
        last += first
        th_start, th_end = idx[first], idx[last]
        if th_start == th_end:
            th_start, th_end = idx[0], idx[-1]
    if th_start == th_end:
        attack = 1.0 / sr
    else:
        attack = (th_end - th_start + 1.0) / sr
    if max_time > 0 and attack > max_time:
        th_end = th_start + int(sr * max_time)
        attack = (th_end - th_start + 1.0) / sr
    return np.log10(attack), int(th_start + start)


def _onset_list(strength: np.ndarray, env: np.ndarray, sr: int) -> list[int]:
    """Warmth's and hardness's onsets: `calculate_onsets` with nperseg 4096, and [0] (the
    whole signal) instead of a single onset."""
    onsets = _onsets(strength, env, sr, nperseg=4096)
    return [0] if len(onsets) <= 1 else onsets


#: warmth's onset spectra peak-picked at once
_WARMTH_BATCH = 256


def _warmth(src: _Mono, win: dict[str, np.ndarray], onsets: list[int]) -> float:
    """`timbral_warmth`: per onset segment the spectral centroid, the share of energy
    from the fundamental to 260 Hz and how well a power law fits the spectrum above
    3.5 x the fundamental (R^2 on log-log axes); with the warm-region (1-4 Bark) and
    high-frequency loudness, in a linear regression."""
    sr = src.sr
    bounds = list(onsets) + [src.n]
    rms, ratios, centroids, scores = [], [], [], []
    spectra = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        seg = src.x(a, b)
        rms.append(np.sqrt(np.mean(seg * seg)))
        # scipy's default spectrogram (Tukey window, 1/8 overlap), summed over frames
        freq, _, spec = scipy.signal.spectrogram(seg, sr, nperseg=min(seg.size, 8192), nfft=8192)
        spec = spec.sum(axis=1)
        spectra.append(spec / np.max(np.abs(spec)))
        if len(spectra) < _WARMTH_BATCH and i < len(bounds) - 2:
            continue
        batch = np.array(spectra)
        spectra = []
        row, _, pos, idx = _peaks(batch, batch, freq, 0.2)
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
            # R^2 of the least-squares line through the log-log spectrum above the region
            with np.errstate(divide="ignore"):
                y = np.log10(spec[wr_idx:])
                x = np.log10(freq[wr_idx:])
            design = np.stack([x, np.ones_like(x)], axis=1)
            residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
            scores.append(1 - np.sum(residual**2) / np.sum((y - y.mean()) ** 2))
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


def _spectral_centroid(y: np.ndarray, sr: float) -> float | None:
    """`get_spectral_features(y, sr)[0]`: the centroid above 20 Hz of the unwindowed
    magnitude spectrum (FFT at the next power of two); None for silence."""
    nfft = int(pow(2, np.ceil(np.log2(y.size))))
    spectrum = np.abs(scipy.fft.rfft(y, nfft))
    if np.sum(spectrum) <= 0:
        return None
    freq = np.arange(spectrum.size) * (sr / (2.0 * (spectrum.size - 1)))
    lo = int(np.flatnonzero(freq >= 20)[0])
    return float(np.sum(spectrum[lo:] * freq[lo:]) / float(np.sum(spectrum[lo:])))


def _hardness_onsets(
    src: _Mono, env: np.ndarray, strength: np.ndarray, bandwidth: np.ndarray, onsets: list[int]
) -> dict[str, list]:
    """`timbral_hardness`'s measures per onset of its padded signal: the bandwidth at the
    attack (weighted by the onset strength), the attack time of the envelope, the peak
    onset strength and the spectral centroid of the first 125 ms of the attack."""
    sr = src.sr
    bandwidth_fs = sr / 128.0
    band_onsets = (np.maximum(np.array(onsets) - 4096, 0) / 128.0).astype(np.int64)
    out = {key: [] for key in ("bw_max", "bw_weights", "attacks", "strengths", "centroids")}
    for i, onset in enumerate(onsets):
        b0 = band_onsets[i]
        seg = bandwidth[b0:] if b0 == band_onsets[-1] else bandwidth[b0 : band_onsets[i + 1]]
        band_attack = None
        if seg.size and np.max(seg) > 0:
            band_attack = _attack(seg, bandwidth_fs, fixed=True)
            if band_attack is not None:
                start = band_attack[1]
                span = int(0.1 * bandwidth_fs)
                if seg[start:].size > start + span:  # (sic)
                    out["bw_max"].append(np.max(seg[start : start + span]))
                else:
                    out["bw_max"].append(np.max(seg[start:]))
        last = onset == onsets[-1]
        end = env.size if last else onsets[i + 1]
        first = int(onset / 512)
        strength_seg = strength[first:] if last else strength[first : int(onsets[i + 1] / 512)]
        attack = _attack(env[onset:end].astype(np.float64), sr, fixed=False)
        if attack is None:  # the package fails here (its attack time is then 0)
            continue
        out["attacks"].append(attack[0])
        out["strengths"].append(np.max(strength_seg))
        if band_attack is not None:
            out["bw_weights"].append(np.max(strength_seg))
        a = onset + attack[1]
        b = min(a + int(0.125 * sr), end)
        if b - a > 512:
            centroid = _spectral_centroid(src.x(a - _HARD_PAD, b - _HARD_PAD), sr)
            if centroid is not None:
                out["centroids"].append(centroid)
    return out


def _hardness(win: dict[str, np.ndarray], feats: dict[str, Any], sr: int) -> float:
    """`timbral_hardness`: the onsets' bandwidth at the attack, attack centroid, onset
    strength and attack time, with the mid-band (7-14 Bark) loudness and the percussive
    share of the energy, in a linear regression."""
    if feats["bw_max"]:
        bw = np.average(feats["bw_max"], weights=feats["bw_weights"])
        if bw <= 512.0:
            bw = sr / 512.0
    else:
        bw = sr / 512.0
    centroid = np.mean(feats["centroids"]) if feats["centroids"] else 200.0
    centroid = max(centroid, 200.0)
    metrics = np.array(
        [
            np.log10(bw),
            np.log10(centroid),
            np.log10(np.average(win["bark_70_140"], weights=win["rms"])),
            np.log10(feats["hp_ratio"]),
            np.log10(np.mean(feats["strengths"])),
            np.mean(feats["attacks"]),
            1.0,
        ]
    )
    coefficients = np.array(
        [12.079781720638145, 18.52100377170042, 14.139883645260355, 5.567690321917516]
        + [3.9346817690405635, -4.326890461087848, -85.60352209068202]
    )
    return float(np.sum(metrics * coefficients))


# ----------------------------------------------------------------------- reverberation

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


def _rt60(y: np.ndarray, sr: int) -> float:
    """`estimate_RT60` (Jan and Wang's blind RT60 estimate, Loellmann's frame-wise
    scheme) of one channel: frames of 7 sub-frames (every N_shift samples, every other
    sample); where 3 or 4 consecutive sub-frames decay (variance and maximum falling,
    minimum rising) the maximum-likelihood decay rate of a Laplacian model over them;
    the mode of a sliding histogram of those estimates, smoothed recursively; its mean
    over the frames that gave an estimate."""
    no = sr / 24000.0
    down = 2 if sr > 8e3 else 1
    n_sub = int(round(no * 700 / down))
    shift = int(round(no * 200 / down))
    n_frame = 7 * n_sub
    tquant = np.arange(0.2, 1.1 + 0.1 / 2, 0.1)
    decay = np.exp(-3.0 * np.log(10) / (tquant * (sr / down)))
    buffer_size = int(round(no * 800 / down))
    span = n_frame * down
    if span >= y.size:
        return float(tquant[0])
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


def _reverberation(samples: np.ndarray, sr: int) -> float:
    """`timbral_reverb(..., dev_output=True)`'s probability x 100: the logistic model on
    the RT60 (the mean of the first two channels'), from the raw signal."""
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
    rt = np.mean([_rt60(c, sr) for c in channels])
    logit = np.sum(np.array([2.97126461]) * np.array([rt])) + -1.45082989
    return float(np.exp(logit) / (1.0 + np.exp(logit)) * 100.0)


# ------------------------------------------------------------------------ entry points


def _source(samples: np.ndarray, sr: int, cached: Cached, *, name: str, mono44=None) -> _Mono:
    """The package's `file_read` of `samples`: summed to mono, loudness-normalised at
    the native rate and, below 44.1 kHz, resampled (soxr, librosa's default). `mono44`,
    if given, returns the channel mean at 44.1 kHz (the track's shared intermediate):
    times the channel count it is the resampled sum, so it is used as it is."""
    n = samples.shape[0]

    def raw(a: int, b: int) -> np.ndarray:
        return _mono_sum(samples[a:b])

    dtype = np.result_type(samples.dtype, np.float32)  # what pyloudnorm filters in
    gain, divisor = cached("timbral_gain", lambda: _normalised(raw, n, sr, dtype, name=name))
    if sr >= MIN_SR:
        return _Mono(raw, n, sr, gain, divisor)
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
    return _Mono(lambda a, b: y[a:b], y.shape[0], MIN_SR, gain, divisor)


def timbral_features(
    samples: np.ndarray, *, sr: int, cached: Cached | None = None
) -> dict[str, float]:
    """The eight Audio Commons timbral ratings of a (mono or multichannel) signal.

    Parameters
    ----------
    samples : np.ndarray, shape (n,) or (n, channels)
        Float audio; channels are summed (the first three) as the package does.
    sr : int
        Sample rate in Hz.
    cached : callable, optional
        `cached(key, compute)` memoiser (such as :meth:`mir.audio.Audio.cached`) to keep
        and share the intermediates, keyed "timbral_...".

    Returns
    -------
    dict
        `brightness`, `roughness`, `hardness`, `depth`, `booming`, `sharpness`, `warmth`
        (0-100, clamped) and `reverberation` (probability of reverberant content x 100),
        each rounded to 4 decimals.

    Raises
    ------
    AudioError
        The signal is silent.

    Examples
    --------
    >>> t = np.arange(3 * 44100) / 44100
    >>> ratings = timbral_features(0.3 * np.sin(2 * np.pi * 3000 * t), sr=44100)
    >>> ratings["brightness"] > 70, ratings["roughness"]
    (True, 0.0)
    """
    x = np.asarray(samples)
    if cached is None:
        memo: dict[str, Any] = {}

        def cached(key, compute):
            if key not in memo:
                memo[key] = compute()
            return memo[key]

    return _ratings(x, sr, cached, name="<samples>")


def timbral_of_audio(audio: Audio) -> dict[str, float]:
    """:func:`timbral_features` of a decoded track, its intermediates cached on it.

    The package would see `audio.samples` (float32, (n, channels)) at `audio.sr`: that is
    what is analysed, the channels summed; below 44.1 kHz the track's shared
    `audio.mono(44100)` is the resampled signal.
    """
    return dict(
        audio.cached(
            "timbral_ratings",
            lambda: _ratings(
                audio.samples,
                audio.sr,
                audio.cached,
                name=str(audio.path or "<audio>"),
                mono44=lambda: audio.mono(MIN_SR),
            ),
        )
    )


def _clamped(value: float) -> float:
    return round(float(np.clip(value, 0.0, 100.0)), 4)


def _ratings(samples: np.ndarray, sr: int, cached: Cached, *, name: str, mono44=None) -> dict:
    """The eight ratings; what the models share (the loudness windows of sharpness,
    booming, hardness and warmth; the spectral frames of brightness and depth; the
    onsets of warmth and hardness) is computed once and kept through `cached`."""
    src = _source(samples, sr, cached, name=name, mono44=mono44)
    win = cached("timbral_loudness_windows", lambda: _loudness_windows(src))
    spectral = cached("timbral_spectral_frames", lambda: _spectral_frames(src))
    onsets = cached("timbral_onset_features", lambda: _onset_features(src))
    values = {
        "brightness": _brightness(spectral),
        "depth": _depth(spectral),
        "hardness": _hardness(win, onsets, src.sr),
        "roughness": cached("timbral_roughness", lambda: _roughness(src)),
        "warmth": _warmth(src, win, onsets["warmth_onsets"]),
        "sharpness": _sharpness(win),
        "booming": _booming(win),
        "reverberation": cached("timbral_reverberation", lambda: _reverberation(samples, sr)),
    }
    return {key: _clamped(values[key]) for key in TIMBRAL_KEYS}

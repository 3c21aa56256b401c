"""Specific loudness (Zwicker, ISO 532 B) of 4096-sample windows, as timbral_models 0.4.0's
`timbral_util.py` computes it (`window_audio`, `filter_third_octaves_downsample`,
`specific_loudness`, `weighted_bark_level`) for the sharpness, booming, hardness and
warmth models; the per-window state machine of the package runs for many windows at
once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.fft
import scipy.signal

from mir.family import Undefined
from mir.timbral.filters import (
    dot,
)
from mir.timbral.signal import MonoSignal

LAB_FREQ = np.array(
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
    top = np.flatnonzero(LAB_FREQ == 12500)[0]
    while LAB_FREQ[top] > nyquist:
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


def bark_weights(low: int, high: int) -> np.ndarray:
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


#: why sharpness and booming are undefined for a signal: loudness is what they weigh
NO_LOUDNESS = Undefined(
    "no 4096-sample window has ISO 532 B loudness: nothing in its bands (25 Hz to 12.5 kHz) "
    "is audible at the models' -24 LUFS"
)
#: what a model takes from each window's specific loudness: `measure(ns, n_entire)`, with
#: `ns` the (windows, 240) specific loudness in sone/Bark and `n_entire` the loudness in
#: sone of each window, returns one value per window
WindowMeasure = Callable[[np.ndarray, np.ndarray], np.ndarray]


def audible(win: dict[str, np.ndarray]) -> bool:
    """Whether any window of :func:`loudness_windows` has loudness."""
    return bool(np.any(win["loudness"] > 0))


def band_measure(low: int, high: int) -> WindowMeasure:
    """The `weighted_bark_level` of 0.1-Bark bands `low`..`high`-1 of each window."""
    weights = bark_weights(low, high)
    return lambda ns, n_entire: dot(ns, weights)


def loudness_windows(src: MonoSignal, measures: dict[str, WindowMeasure]) -> dict[str, np.ndarray]:
    """Per 4096-sample window of the signal (`window_audio`: the last one zero-padded, a
    whole window of zeros if the length is a multiple of 4096): its RMS (`"rms"`), its
    loudness in sone (`"loudness"`, ISO 532 B's N) and each of `measures` (the sharpness,
    booming, hardness and warmth models' measures of its specific loudness), by name."""
    n_windows = src.n // _LOUDNESS_WINDOW + 1
    out = {key: np.zeros(n_windows) for key in ("rms", "loudness", *measures)}
    for w0 in range(0, n_windows, _LOUDNESS_BATCH):
        w1 = min(w0 + _LOUDNESS_BATCH, n_windows)
        frames = src.x(w0 * _LOUDNESS_WINDOW, w1 * _LOUDNESS_WINDOW).reshape(w1 - w0, -1)
        n_entire, ns = _zwicker(_third_octave_levels(frames, src.sr))
        sl = slice(w0, w1)
        out["rms"][sl] = np.sqrt(np.mean(frames * frames, axis=1))
        out["loudness"][sl] = n_entire
        for key, measure in measures.items():
            out[key][sl] = measure(ns, n_entire)
    return out

"""Hardness: `timbral_hardness` of timbral_models 0.4.0 (Timbral_Hardness.py), with the
parts of `timbral_util.py` only it uses (`get_percussive_audio`, `get_bandwidth_array`,
`calculate_attack_time`, `get_spectral_features`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import median_filter

from mir.family import Undefined
from mir.timbral.filters import centred_frames
from mir.timbral.onset_strength import MelDb
from mir.timbral.signal import MonoSignal
from mir.timbral.specific_loudness import WindowMeasure, band_measure

#: the zeros `timbral_hardness` puts in front of the signal (nperseg + 1)
HARD_PAD = 4097
#: STFT frames of the HPSS and onset passes computed at once
STFT_BATCH = 1024
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


def percussive_rms(src: MonoSignal, n_frames: int, mel: MelDb) -> tuple[np.ndarray, np.ndarray]:
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
    for f0 in range(0, n_frames, STFT_BATCH):
        f1 = min(f0 + STFT_BATCH, n_frames)
        g0, g1 = max(f0 - 1 - h, 0), min(f1 + 2 + h, n_frames)
        frames = centred_frames(src, g0, g1).astype(np.float32)
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


def bandwidth_array(src: MonoSignal) -> np.ndarray:
    """`get_bandwidth_array` of hardness's padded signal: per 4096-sample frame every
    128 (boxcar window, scipy's density-scaled magnitude), the span from the 5 % power
    roll-on to the last bin above -75 dB; 0 for frames under 10 % of the power range."""
    sr = src.sr
    n_bw = (src.n + HARD_PAD - 4096) // 128 + 1 if src.n + HARD_PAD >= 4096 else 0
    freq = np.fft.rfftfreq(4096, 1.0 / sr)
    scale = np.sqrt(1.0 / (sr * 4096))  # scipy's density scaling of the magnitude
    threshold = np.float32(10 ** (-75 / 20.0) / scale)
    power = np.zeros(n_bw)
    width = np.zeros(n_bw)
    head, tail = 256, 256  # most roll-ons are low, most roll-offs high: look there first
    for f0 in range(0, n_bw, _BANDWIDTH_BATCH):
        f1 = min(f0 + _BANDWIDTH_BATCH, n_bw)
        y = src.x(128 * f0 - HARD_PAD, 128 * (f1 - 1) + 4096 - HARD_PAD).astype(np.float32)
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


def onset_measures(
    src: MonoSignal, env: np.ndarray, strength: np.ndarray, bandwidth: np.ndarray, onsets: list[int]
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
            centroid = _spectral_centroid(src.x(a - HARD_PAD, b - HARD_PAD), sr)
            if centroid is not None:
                out["centroids"].append(centroid)
    return out


def window_measures() -> dict[str, WindowMeasure]:
    """The mid-band (7-14 Bark) level of each loudness window."""
    return {"bark_70_140": band_measure(70, 140)}


def rating(win: dict[str, np.ndarray], feats: dict[str, Any], sr: int) -> float | Undefined:
    """`timbral_hardness`: the onsets' bandwidth at the attack, attack centroid, onset
    strength and attack time, with the mid-band (7-14 Bark) loudness and the percussive
    share of the energy, in a linear regression.

    Undefined where no onset has an attack to time (the envelope peaks at the first
    sample of every onset segment; the package raises) or no STFT frame has energy (the
    package's percussive share is 0 / 0). Onsets whose strength is 0 everywhere weigh
    nothing: their bandwidth is then the package's default (sr / 512) as if none was
    measured, rather than a mean with no weight (a ZeroDivisionError there). No
    mid-band loudness or no percussive energy sends the regression to -inf: 0."""
    if not feats["attacks"]:
        return Undefined(
            "hardness: no onset has an attack to time (the envelope peaks where each "
            "onset segment starts)"
        )
    if not np.isfinite(feats["hp_ratio"]):
        return Undefined("hardness: no STFT frame has energy to split into percussive and harmonic")
    if feats["bw_max"] and np.sum(feats["bw_weights"]) > 0:
        bw = np.average(feats["bw_max"], weights=feats["bw_weights"])
        if bw <= 512.0:
            bw = sr / 512.0
    else:
        bw = sr / 512.0
    centroid = np.mean(feats["centroids"]) if feats["centroids"] else 200.0
    centroid = max(centroid, 200.0)
    with np.errstate(divide="ignore"):  # a log of 0: -inf, clamped to 0
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

"""The passes over the signal that several timbral models share: each reads the
descriptors it needs from one pass instead of its own (brightness and depth from
:func:`spectral_frames`; warmth and hardness from :func:`onset_features`). The models'
own steps are in their modules; these passes only gather them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft
import scipy.signal

from mir.timbral.depth import decay_times
from mir.timbral.envelope import HoldEnvelope
from mir.timbral.filters import (
    Filter,
    Framer,
    butter_cascade,
    centred_frames,
    dot,
    short_spectral_power,
    spectral_power,
)
from mir.timbral.hardness import (
    HARD_PAD,
    STFT_BATCH,
    bandwidth_array,
    onset_measures,
    percussive_rms,
)
from mir.timbral.onset_strength import MelDb
from mir.timbral.onsets import calculate_onsets, onset_list
from mir.timbral.signal import MonoSignal


def _hp20_peak(src: MonoSignal) -> float:
    """Peak of the signal high-passed at 20 Hz (three 2nd-order Butterworths), which
    brightness and depth normalise by."""
    hp = Filter(butter_cascade("high", 20, src.sr))
    peak = 0.0
    for _, y in src.blocks():
        peak = max(peak, float(np.max(np.abs(hp(y)))))
    return peak


def spectral_frames(src: MonoSignal) -> dict[str, Any]:
    """What brightness and depth take from the 20 Hz high-passed, peak-normalised signal
    (their `audio_samples`), in one pass after the one that finds the peak: the
    per-frame sums both models average, the summed spectrum of depth's pitch estimate
    and depth's decay times after each onset (onsets from the sample-and-hold envelope
    and the mel spectrogram, decays on the 256-sample RMS envelope)."""
    sr, n = src.sr, src.n
    hp_peak = _hp20_peak(src)
    scale = 1.0 / hp_peak
    hp20 = Filter(butter_cascade("high", 20, sr))
    streams = {
        "ratio_hp": Filter(butter_cascade("high", 2000, sr)),  # brightness
        "centroid_hp": Filter(butter_cascade("high", 100, sr)),  # brightness
        "centroid_lp": Filter(butter_cascade("low", 2000, sr)),  # depth
        "ratio_lp": Filter(butter_cascade("low", 500, sr)),  # depth
    }
    w_b = scipy.signal.get_window("hamming", 2048)
    w_d = scipy.signal.get_window("hamming", 4096)
    f_b = np.fft.rfftfreq(2048, 1.0 / sr)
    f_d = np.fft.rfftfreq(4096, 1.0 / sr)
    # frames every nfft - int(3 * nfft / 4) samples, the package's noverlap
    framers = {key: Framer(2048, 512) for key in ("all_b", "ratio_hp", "centroid_hp")}
    framers.update({key: Framer(4096, 1024) for key in ("all_d", "centroid_lp", "ratio_lp")})
    acc = {key: [] for key in ("b_all", "b_hp", "b_centroid", "b_centroid_power")}
    acc.update({key: [] for key in ("d_power", "d_centroid", "d_centroid_power", "d_ratio_power")})
    spectrum_sum = np.zeros(2049)
    mel = MelDb(n, sr)
    mel_framer = Framer(2048, 512)
    mel.push(mel_framer(np.zeros(1024, dtype=np.float32)))
    envelope = HoldEnvelope(n, sr, peak=hp_peak * scale, decay_time=0.2)
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
        p = spectral_power(framers["centroid_hp"](filtered["centroid_hp"]), w_b, np.float32)
        acc["b_centroid"].append(dot(p, f_b))
        acc["b_centroid_power"].append(p.sum(axis=1))
        # depth: 4096-sample frames every 1024
        p = spectral_power(framers["all_d"](y), w_d)
        spectrum_sum += p.sum(axis=0)
        acc["d_power"].append(p.sum(axis=1))
        p = spectral_power(framers["centroid_lp"](filtered["centroid_lp"]), w_d, np.float32)
        acc["d_centroid"].append(dot(p, f_d))
        acc["d_centroid_power"].append(p.sum(axis=1))
        acc["d_ratio_power"].append(framers["ratio_lp"].power(filtered["ratio_lp"], w_d))
    mel.push(mel_framer(np.zeros(1024, dtype=np.float32)))
    out = {key: np.concatenate(v) if v else np.zeros(0) for key, v in acc.items()}
    if whole:  # shorter than an FFT: one frame of everything, as the package does
        sig = {key: np.concatenate(v) for key, v in whole.items()}
        if tiny["b"]:
            p_all = short_spectral_power(sig["all"], 2048)
            p_hp = short_spectral_power(sig["ratio_hp"], 2048)
            p_c = short_spectral_power(sig["centroid_hp"], 2048)
            out["b_all"], out["b_hp"] = p_all.sum(axis=1), p_hp.sum(axis=1)
            out["b_centroid"], out["b_centroid_power"] = dot(p_c, f_b), p_c.sum(axis=1)
        if tiny["d"]:
            p = short_spectral_power(sig["all"], 4096)
            spectrum_sum = p.sum(axis=0)
            p_c = short_spectral_power(sig["centroid_lp"], 4096)
            p_r = short_spectral_power(sig["ratio_lp"], 4096)
            out["d_power"], out["d_centroid"] = p.sum(axis=1), dot(p_c, f_d)
            out["d_centroid_power"], out["d_ratio_power"] = p_c.sum(axis=1), p_r.sum(axis=1)
    del whole, framers
    onsets = calculate_onsets(mel.strength(), envelope.values, sr)
    del envelope, mel
    out.update(
        spectrum_sum=spectrum_sum,
        spectrum_freq=f_d,
        durations=decay_times(rms * (1.0 / np.max(np.abs(rms))), onsets, sr),
    )
    return out


def onset_features(src: MonoSignal) -> dict[str, Any]:
    """What warmth and hardness take from the normalised signal: the onsets of each
    (`calculate_onsets` on the sample-and-hold envelope, decay 0.1 s, and librosa's
    onset strength; hardness's signal has 4097 zeros in front), the harmonic-percussive
    ratio, and hardness's per-onset measures (:func:`onset_measures`). The spectra here
    are float32: the package's float64 differs in the 7th digit, far below what onset
    picking, the HPSS masks or the -75 dB bandwidth threshold see."""
    n, sr = src.n, src.sr
    peak = max(float(np.max(np.abs(x))) for _, x in src.blocks())
    env = HoldEnvelope(n, sr, peak=peak, decay_time=0.1, front=HARD_PAD)
    for _, x in src.blocks():
        env.push(x)
    mel = MelDb(n, sr)
    p_rms, h_rms = percussive_rms(src, 1 + n // 512, mel)
    sounding = (p_rms != 0) | (h_rms != 0)
    with np.errstate(invalid="ignore"):  # no frame with energy: NaN (hardness says so)
        hp_ratio = np.sum(p_rms[sounding]) / np.sum(p_rms[sounding] + h_rms[sounding])
    warmth_onsets = onset_list(mel.strength(), env.values, sr)
    del mel
    mel = MelDb(n + HARD_PAD, sr)  # hardness's padded signal
    n_frames = 1 + (n + HARD_PAD) // 512
    for f0 in range(0, n_frames, STFT_BATCH):
        f1 = min(f0 + STFT_BATCH, n_frames)
        mel.push(centred_frames(src, f0, f1, offset=HARD_PAD).astype(np.float32))
    strength = mel.strength()
    del mel
    hardness_onsets = onset_list(strength, env.buffer, sr)
    return {
        "warmth_onsets": warmth_onsets,
        "hp_ratio": hp_ratio,
        **onset_measures(src, env.buffer, strength, bandwidth_array(src), hardness_onsets),
    }

"""Time series of a crop (n steps, the latent length of Stable Audio Open small) and of a
whole track (100 frames per second).

All pitch-class series use the same reference as the track features: C = bin 0.
"""

from __future__ import annotations

import numpy as np

from mir.audio import Audio
from mir.harmonic import hpcp_frames, pitch_class, to_c_based
from mir.intermediates import magnitude_spectrogram, mono44, stft_magnitude
from mir.spectral import FREQUENCY_BANDS, RMS_FLOOR_DB, band_sos, spectral_shape

SR = 44100


def _step_index(n_items: int, n_steps: int) -> np.ndarray:
    return np.minimum((np.arange(n_items) * n_steps) // max(n_items, 1), n_steps - 1)


def _per_step(values: np.ndarray, n_steps: int, reduce=np.median) -> np.ndarray:
    """Reduce frames (axis 0) into `n_steps` equal bins; empty bins take the previous value."""
    idx = _step_index(values.shape[0], n_steps)
    out = np.zeros((n_steps, *values.shape[1:]), dtype=np.float32)
    last = np.zeros(values.shape[1:], dtype=np.float32)
    for step in range(n_steps):
        chunk = values[idx == step]
        if chunk.shape[0]:
            last = reduce(chunk, axis=0)
        out[step] = last
    return out


def _bumps(
    times_s: np.ndarray, *, duration_s: float, n_steps: int, sigma_steps: float
) -> np.ndarray:
    steps = np.arange(n_steps, dtype=np.float64)
    out = np.zeros(n_steps)
    for t in times_s:
        center = t / duration_s * n_steps
        out += np.exp(-0.5 * ((steps - center) / sigma_steps) ** 2)
    peak = out.max()
    return (out / peak if peak > 0 else out).astype(np.float32)


def band_rms_series(y: np.ndarray, *, sr: int, n_steps: int) -> dict[str, np.ndarray]:
    """RMS level (dBFS, floor -60) of each frequency band per step."""
    import scipy.signal

    out = {}
    for name, (lo, hi) in FREQUENCY_BANDS.items():
        filtered = scipy.signal.sosfilt(band_sos(lo, hi, sr=sr), y.astype(np.float64))
        ms = _per_step(filtered[:, None] ** 2, n_steps, reduce=np.mean)[:, 0]
        with np.errstate(divide="ignore"):
            db = 10 * np.log10(np.maximum(ms, 1e-12))
        out[f"rms_energy_{name}_ts"] = np.maximum(db, RMS_FLOOR_DB).astype(np.float32)
    return out


def crop_timeseries(
    audio: Audio,
    *,
    n_steps: int = 256,
    beats: np.ndarray | None = None,
    downbeats: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The spec's per-crop series: band RMS, spectral shape, beat/downbeat/onset
    activations, HPCP (C = 0), tonic and tonic strength, each `n_steps` long.

    `audio` is the crop; its 44.1 kHz mono view and STFT are the ones its per-crop features
    use (cached on it). `beats` and `downbeats` are in seconds from the crop's start;
    without downbeats, every 4th beat stands in.
    """
    import essentia.standard as es
    import librosa

    sr = SR
    y = mono44(audio)
    duration = y.size / sr
    out = band_rms_series(y, sr=sr, n_steps=n_steps)
    for key, series in spectral_shape(stft_magnitude(audio)).items():
        out[f"spectral_{key}_ts"] = _per_step(series[:, None], n_steps)[:, 0]
    beats = np.zeros(0) if beats is None else np.asarray(beats, float)
    downbeats = (
        beats[::4] if downbeats is None or len(downbeats) < 2 else np.asarray(downbeats, float)
    )
    out["beat_activations_ts"] = _bumps(
        beats, duration_s=duration, n_steps=n_steps, sigma_steps=1.5
    )
    out["downbeat_activations_ts"] = _bumps(
        downbeats, duration_s=duration, n_steps=n_steps, sigma_steps=2.25
    )
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=512)
    onsets = _per_step(env[:, None], n_steps)[:, 0]
    out["onsets_activations_ts"] = (onsets / onsets.max() if onsets.max() > 0 else onsets).astype(
        np.float32
    )
    hop = max(512, (y.size // n_steps) // 2 * 2)
    frames = hpcp_frames(y, sr=sr, frame_size=max(4096, 2 * hop), hop_size=hop)
    hpcp = (
        _per_step(to_c_based(frames), n_steps, reduce=np.mean)
        if frames.size
        else np.zeros((n_steps, 12), np.float32)
    )
    peaks = hpcp.max(axis=1, keepdims=True)
    hpcp = np.divide(hpcp, peaks, out=np.zeros_like(hpcp), where=peaks > 0)
    out["hpcp_ts"] = hpcp.astype(np.float32)
    key = es.Key(profileType="edmm", pcpSize=12)
    tonic, strength = np.zeros(n_steps, np.float32), np.zeros(n_steps, np.float32)
    for i, row in enumerate(hpcp):
        if row.max() > 0:
            # Key's profiles start at A: rotate the C-based row back
            name, _, s, _ = key(np.roll(row, 3).astype(np.float32))
            tonic[i], strength[i] = pitch_class(name), s
    out["tonic_ts"], out["tonic_strength_ts"] = tonic, strength
    return out


def track_timeseries(
    y: np.ndarray,
    *,
    sr: int = SR,
    frame_rate: int = 100,
    beat_activation: np.ndarray | None = None,
    downbeat_activation: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The whole-track series at `frame_rate` frames per second: madmom's raw beat and
    downbeat activations (when given), the onset envelope, band RMS, spectral shape and HPCP."""
    import librosa

    hop = sr // frame_rate
    n_frames = int(np.ceil(y.size / hop))
    out: dict[str, np.ndarray] = {}
    if beat_activation is not None and beat_activation.size:
        out["beat_activation_ts"] = _fit(beat_activation, n_frames)
    if downbeat_activation is not None and downbeat_activation.size:
        out["downbeat_activation_ts"] = _fit(downbeat_activation, n_frames)
    out["onset_envelope_ts"] = _fit(
        librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop), n_frames
    )
    out.update(
        {k: _fit(v, n_frames) for k, v in band_rms_series(y, sr=sr, n_steps=n_frames).items()}
    )
    for key, series in spectral_shape(magnitude_spectrogram(y, hop=hop)).items():
        out[f"spectral_{key}_ts"] = _fit(series, n_frames)
    frames = to_c_based(hpcp_frames(y, sr=sr, frame_size=4096, hop_size=hop))
    out["hpcp_ts"] = _fit(frames, n_frames) if frames.size else np.zeros((n_frames, 12), np.float32)
    return out


def _fit(values: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad along axis 0 to `n` frames, as float32."""
    values = np.asarray(values, dtype=np.float32)
    if values.shape[0] >= n:
        return values[:n]
    pad = np.zeros((n - values.shape[0], *values.shape[1:]), dtype=np.float32)
    return np.concatenate([values, pad])

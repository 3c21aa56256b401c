"""Time series of a crop (n steps, the latent length of Stable Audio Open small) and of a
whole track (100 frames per second).

All pitch-class series use the same reference as the track features: C = bin 0.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from mir._essentia import algorithm
from mir.audio import Audio
from mir.harmonic import hpcp_frames, hpcp_of, pitch_class, to_c_based
from mir.intermediates import (
    HOP,
    magnitude_blocks,
    mel_power,
    mono44,
    onset_strength_of_mel,
    stft_magnitude,
)
from mir.spectral import (
    RMS_FLOOR_DB,
    band_energies,
    band_energies_of,
    spectral_shape,
    spectral_shape_of,
    step_starts,
)

SR = 44100


def _forward_fill(values: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Steps where `filled` is False take the value of the last filled step (0 before it)."""
    if filled.all():
        return values
    last = np.maximum.accumulate(np.where(filled, np.arange(filled.size), -1))
    out = np.where((last >= 0).reshape(-1, *([1] * (values.ndim - 1))), values[last], 0)
    return out.astype(values.dtype, copy=False)


def _per_step(values: np.ndarray, n_steps: int, reduce=np.median) -> np.ndarray:
    """Reduce frames (axis 0) into `n_steps` equal bins by median or mean; empty bins take
    the previous value.

    The bins are gathered into one (steps, widest bin) array padded with NaN and reduced
    at once: the cost is linear in the frames."""
    n = values.shape[0]
    if n == 0:
        return np.zeros((n_steps, *values.shape[1:]), dtype=np.float32)
    starts = step_starts(n, n_steps)
    sizes = np.diff(starts)
    offsets = np.arange(int(sizes.max()))
    gathered = values[np.minimum(starts[:-1, None] + offsets, n - 1)].astype(np.float64)
    gathered[offsets[None, :] >= sizes[:, None]] = np.nan
    nan_reduce = {np.median: np.nanmedian, np.mean: np.nanmean}[reduce]
    with warnings.catch_warnings():  # an empty bin is all NaN: filled below
        warnings.simplefilter("ignore", RuntimeWarning)
        reduced = nan_reduce(gathered, axis=1)
    return _forward_fill(np.nan_to_num(reduced).astype(np.float32), sizes > 0)


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


def band_rms_series(
    y: np.ndarray,
    *,
    sr: int,
    n_steps: int,
    energies: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """RMS level (dBFS, floor -60) of each frequency band per step (`n_steps` equal bins),
    from :func:`~mir.spectral.band_energies` (computed here unless given)."""
    if energies is None:
        energies = band_energies(y, sr=sr, n_steps=n_steps)
    counts = np.diff(step_starts(y.size, n_steps))
    out = {}
    for name, sums in energies.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            ms = _forward_fill(sums / np.maximum(counts, 1), counts > 0)
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
    sr = SR
    y = mono44(audio)
    duration = y.size / sr
    out = band_rms_series(y, sr=sr, n_steps=n_steps, energies=band_energies_of(audio, n_steps))
    for key, series in spectral_shape_of(audio).items():
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
    env = onset_strength_of_mel(mel_power(stft_magnitude(audio)), hop=HOP)
    onsets = _per_step(env[:, None], n_steps)[:, 0]
    out["onsets_activations_ts"] = (onsets / onsets.max() if onsets.max() > 0 else onsets).astype(
        np.float32
    )
    hop = max(512, (y.size // n_steps) // 2 * 2)
    frames = hpcp_of(audio, frame_size=max(4096, 2 * hop), hop_size=hop)  # the crop's features' too
    hpcp = (
        _per_step(to_c_based(frames), n_steps, reduce=np.mean)
        if frames.size
        else np.zeros((n_steps, 12), np.float32)
    )
    peaks = hpcp.max(axis=1, keepdims=True)
    hpcp = np.divide(hpcp, peaks, out=np.zeros_like(hpcp), where=peaks > 0)
    out["hpcp_ts"] = hpcp.astype(np.float32)
    key = algorithm("Key", profileType="edmm", pcpSize=12)
    tonic, strength = np.zeros(n_steps, np.float32), np.zeros(n_steps, np.float32)
    for i in np.flatnonzero(peaks[:, 0] > 0):
        # Key's profiles start at A: rotate the C-based row back
        name, _, s, _ = key(np.roll(hpcp[i], 3).astype(np.float32))
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
    energies: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The whole-track series at `frame_rate` frames per second: madmom's raw beat and
    downbeat activations (when given), the onset envelope, band RMS, spectral shape and HPCP.

    One STFT (2048 samples, hop sr / frame_rate) taken block by block serves the spectral
    shape and the onset envelope's mel spectrum; time and memory grow linearly with the
    track (about 1 MB per second of audio for the series themselves). `energies`:
    :func:`~mir.spectral.band_energies` of `y` over the frames, when already computed."""
    hop = sr // frame_rate
    n_frames = int(np.ceil(y.size / hop))
    out: dict[str, np.ndarray] = {}
    if beat_activation is not None and beat_activation.size:
        out["beat_activation_ts"] = _fit(beat_activation, n_frames)
    if downbeat_activation is not None and downbeat_activation.size:
        out["downbeat_activation_ts"] = _fit(downbeat_activation, n_frames)
    shape_parts: list[dict[str, np.ndarray]] = []
    mel_parts: list[np.ndarray] = []
    previous = None  # the frame before the block, for the flux
    for _, mag in magnitude_blocks(y, hop=hop):
        lead = 0 if previous is None else 1
        block = mag if previous is None else np.concatenate([previous, mag], axis=1)
        shape_parts.append({k: v[lead:] for k, v in spectral_shape(block).items()})
        mel_parts.append(mel_power(mag, sr=sr))
        previous = mag[:, -1:]
    out["onset_envelope_ts"] = _fit(
        onset_strength_of_mel(np.concatenate(mel_parts, axis=1), sr=sr, hop=hop), n_frames
    )
    out.update(band_rms_series(y, sr=sr, n_steps=n_frames, energies=energies))
    for key in shape_parts[0]:
        series = np.concatenate([part[key] for part in shape_parts])
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


# -- .npz files beside the audio ---------------------------------------------------------

#: the suffix of a series file: `<Track>.TIMESERIES.npz` (100 Hz) and
#: `<Track>_<N>.TIMESERIES.npz` (a crop, n steps)
NPZ_SUFFIX = ".TIMESERIES.npz"
META_FIELD = "__meta__"


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write float32 `arrays` and a `__meta__` JSON string as one compressed `.npz`,
    atomically (a temporary name, then a rename): a reader never sees half a file.

    `meta` gets `fields` (the array names, sorted) added."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "fields": sorted(arrays)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()},
                **{META_FIELD: np.array(json.dumps(meta))},
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_npz(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the `__meta__` dict of a file written by :func:`write_npz`."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data[META_FIELD])) if META_FIELD in data.files else {}
        arrays = {k: data[k] for k in data.files if k != META_FIELD}
    return arrays, meta

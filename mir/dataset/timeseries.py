"""Time series of a crop (n steps, the latent length of Stable Audio Open small) and of a
whole track (each field at its own rate: :func:`complete_track_series`).

All pitch-class series use the same reference as the track features: C = bin 0.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np

from mir._essentia import algorithm
from mir.audio import Audio
from mir.families import STEMS
from mir.harmonic import hpcp_frames, hpcp_of, to_c_based
from mir.intermediates import (
    HOP,
    magnitude_blocks,
    mel_power,
    mono44,
    onset_strength_of_mel,
    stft_magnitude,
)
from mir.key import pitch_class
from mir.spectral import (
    RMS_FLOOR_DB,
    band_energies,
    band_energies_of,
    spectral_shape,
    spectral_shape_of,
    step_starts,
)
from mir.structure import section_series

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


#: the rate of the whole track's main series (frames per second)
FRAME_RATE = 100
#: the rate of the f0 series (hop 240 samples at 12 kHz), its frame and voicing threshold
F0_RATE = 50
F0_SR = 12000
F0_FRAME = 2048
F0_CONFIDENCE = 0.6
#: the stems whose f0 is tracked (monophonic lines: the bass, the lead of `other`)
F0_STEMS = ("bass", "other")
#: f0 frames quieter than this RMS (linear, -40 dBFS) are unvoiced
F0_RMS_FLOOR = 0.01
#: the rate of the chord index (madmom's chord recogniser labels 10 frames per second)
CHORD_RATE = 10
#: the rate of the section index and the place within the section (sections are bars long)
SECTION_RATE = 10
#: the rate of the tonic series, and the span of HPCP each estimate reads
TONIC_RATE = 1
TONIC_SPAN_S = 4.0
#: the width (standard deviation, s) of a beat's and a downbeat's bump in the whole-track
#: series: the crops' (1.5 and 2.25 steps of a 256-step crop of 524288 samples)
BEAT_SIGMA_S = 1.5 * 524288 / SR / 256
DOWNBEAT_SIGMA_S = 2.25 * 524288 / SR / 256
#: a bump is summed over +-this many standard deviations (beyond, it is below 4e-6)
BUMP_REACH = 5.0
#: the series a stem gives, by the stem's name (each stem's RMS and onsets; f0 where tracked)
_STEM_FIELD = re.compile(r"^(rms|onset_envelope|f0)_(?P<stem>[a-z]+?)(_voiced)?_ts$")


def grid_bumps(
    times_s: np.ndarray, *, n_frames: int, frame_rate: float = FRAME_RATE, sigma_s: float
) -> np.ndarray:
    """A Gaussian bump of `sigma_s` seconds at each of `times_s`, summed, at `frame_rate`
    over `n_frames` frames and scaled to peak 1 (zeros without times): the crops' beat and
    downbeat activations (:func:`crop_timeseries`) over a whole track. Cost: linear in the
    frames and the beats."""
    out = np.zeros(n_frames, np.float64)
    times = np.asarray(times_s, np.float64).ravel()
    if times.size and n_frames:
        sigma = sigma_s * frame_rate
        offsets = np.arange(-int(np.ceil(BUMP_REACH * sigma)), int(np.ceil(BUMP_REACH * sigma)) + 1)
        centres = times * frame_rate
        index = np.round(centres)[:, None].astype(np.int64) + offsets[None, :]
        weights = np.exp(-0.5 * ((index - centres[:, None]) / sigma) ** 2)
        inside = (index >= 0) & (index < n_frames)
        np.add.at(out, index[inside], weights[inside])
    peak = out.max(initial=0.0)
    return (out / peak if peak > 0 else out).astype(np.float32)


def grid_activations(
    beats_s: np.ndarray, downbeats_s: np.ndarray | None, *, n_frames: int
) -> dict[str, np.ndarray]:
    """`beat_activations_ts` and `downbeat_activations_ts` (0..1) at :data:`FRAME_RATE`:
    the crops' bumps at the beat grid's beats and downbeats (:data:`BEAT_SIGMA_S`,
    :data:`DOWNBEAT_SIGMA_S`); without downbeats (fewer than 2), every 4th beat stands in,
    as in the crops. Unlike madmom's raw `beat_activation_ts`, they exist for every
    tracker."""
    beats = np.asarray(beats_s, float)
    downbeats = (
        beats[::4] if downbeats_s is None or len(downbeats_s) < 2 else np.asarray(downbeats_s)
    )
    return {
        "beat_activations_ts": grid_bumps(beats, n_frames=n_frames, sigma_s=BEAT_SIGMA_S),
        "downbeat_activations_ts": grid_bumps(
            downbeats, n_frames=n_frames, sigma_s=DOWNBEAT_SIGMA_S
        ),
    }


def onsets_activations(onset_envelope: np.ndarray) -> np.ndarray:
    """The onset envelope scaled to peak 1 over the track (0..1): the crops'
    `onsets_activations_ts`, which a crop scales over itself."""
    peak = float(onset_envelope.max(initial=0.0))
    return (onset_envelope / peak if peak > 0 else onset_envelope).astype(np.float32)


def series_family(field: str) -> str | None:
    """The family whose results a series field is made of (so its model, if any, is that
    family's): `beat_grid` for the beat and downbeat activations, `chords` for the chord
    index, `stems` for a stem's RMS, onsets and f0; None for the series of the audio alone
    (signal processing, no model)."""
    if field in (
        "beat_activation_ts",
        "downbeat_activation_ts",
        "beat_activations_ts",
        "downbeat_activations_ts",
    ):
        return "beat_grid"
    if field == "chords_idx_ts":
        return "chords"
    match = _STEM_FIELD.match(field)
    if match and match["stem"] in STEMS:
        return "stems"
    return None


def chord_index(label: str) -> int:
    """The chord index of a madmom label: 0 for no chord (`N`), 1 + root (C = 0) for a
    major chord, 13 + root for a minor one (`A:min` -> 22)."""
    if label == "N" or ":" not in label:
        return 0
    root, quality = label.split(":", 1)
    return 1 + pitch_class(root) + (12 if quality.startswith("min") else 0)


def chord_series(segments, duration_s: float, *, rate: int = CHORD_RATE) -> np.ndarray:
    """The chord index (:func:`chord_index`) of each frame of `rate` per second, from chord
    segments `(start_s, end_s, label)`; frames no segment covers are 0."""
    n = int(np.ceil(duration_s * rate))
    out = np.zeros(n, np.float32)
    for start, end, label in segments:
        lo, hi = int(round(float(start) * rate)), int(round(float(end) * rate))
        out[max(lo, 0) : min(hi, n)] = chord_index(str(label))
    return out


def tonic_series(
    hpcp_c: np.ndarray, *, frame_rate: int = FRAME_RATE, rate: int = TONIC_RATE
) -> dict[str, np.ndarray]:
    """`tonic_ts` (pitch class, C = 0) and `tonic_strength_ts` (0..1) at `rate` per second:
    Essentia's `Key` (edmm profile, as the crops' series) of the HPCP (C-based, at
    `frame_rate`) averaged over :data:`TONIC_SPAN_S` around each frame; 0 and 0 where the
    HPCP is silent."""
    n = int(np.ceil(hpcp_c.shape[0] / frame_rate * rate))
    tonic, strength = np.zeros(n, np.float32), np.zeros(n, np.float32)
    if hpcp_c.size == 0:
        return {"tonic_ts": tonic, "tonic_strength_ts": strength}
    key = algorithm("Key", profileType="edmm", pcpSize=12)
    sums = np.concatenate([np.zeros((1, 12)), np.cumsum(hpcp_c.astype(np.float64), axis=0)])
    half = int(TONIC_SPAN_S * frame_rate / 2)
    for i in range(n):
        centre = int((i + 0.5) * frame_rate / rate)
        lo, hi = max(centre - half, 0), min(centre + half, hpcp_c.shape[0])
        if hi <= lo:
            continue
        mean = (sums[hi] - sums[lo]) / (hi - lo)
        if mean.max() <= 0:
            continue
        # Key's profiles start at A: rotate the C-based vector back
        name, _, s, _ = key(np.roll(mean / mean.max(), 3).astype(np.float32))
        tonic[i], strength[i] = pitch_class(name), s
    return {"tonic_ts": tonic, "tonic_strength_ts": strength}


def f0_series(y: np.ndarray, *, sr: int = SR, name: str) -> dict[str, np.ndarray]:
    """`f0_<name>_ts` (Hz, 0 where unvoiced) and `f0_<name>_voiced_ts` (1 voiced, 0 not) at
    :data:`F0_RATE` per second: Essentia's YIN in the frequency domain (`PitchYinFFT`,
    30-1500 Hz) on the mono signal at 12 kHz, frames of 2048 (171 ms: two periods of the
    lowest bass string), hop 240. A frame is voiced when YIN's confidence reaches
    :data:`F0_CONFIDENCE` and its RMS :data:`F0_RMS_FLOOR`. (Essentia's probabilistic YIN,
    the first choice, reads pure tones an octave or more off in this build.)"""
    import essentia.standard as es
    import librosa

    x = y.astype(np.float32)
    if sr != F0_SR:
        x = librosa.resample(x, orig_sr=sr, target_sr=F0_SR).astype(np.float32)
    hop = F0_SR // F0_RATE
    n = int(np.ceil(x.size / hop))
    f0 = np.zeros(n, np.float32)
    if x.size >= F0_FRAME:
        window = es.Windowing(type="hann", size=F0_FRAME)
        spectrum = es.Spectrum(size=F0_FRAME)
        yin = es.PitchYinFFT(
            frameSize=F0_FRAME, sampleRate=F0_SR, minFrequency=30, maxFrequency=1500
        )
        frames = es.FrameGenerator(x, frameSize=F0_FRAME, hopSize=hop, startFromZero=True)
        for i, frame in enumerate(frames):
            if i >= n:
                break
            if np.sqrt(np.mean(np.square(frame, dtype=np.float64))) < F0_RMS_FLOOR:
                continue
            pitch, confidence = yin(spectrum(window(frame)))
            if confidence >= F0_CONFIDENCE and pitch > 0:
                f0[i] = pitch
    return {f"f0_{name}_ts": f0, f"f0_{name}_voiced_ts": (f0 > 0).astype(np.float32)}


def stem_series(y: np.ndarray, *, sr: int = SR, name: str, n_frames: int) -> dict[str, np.ndarray]:
    """`rms_<name>_ts` (broadband RMS, dBFS, floor -60) and `onset_envelope_<name>_ts`
    (librosa's onset strength of the stem) at :data:`FRAME_RATE`, `n_frames` long."""
    hop = sr // FRAME_RATE
    blocks = np.zeros(n_frames * hop, np.float64)
    blocks[: min(y.size, blocks.size)] = y[: blocks.size]
    ms = np.mean(np.square(blocks.reshape(n_frames, hop)), axis=1)
    with np.errstate(divide="ignore"):
        db = np.maximum(10 * np.log10(np.maximum(ms, 1e-12)), RMS_FLOOR_DB)
    mel = np.concatenate([mel_power(mag, sr=sr) for _, mag in magnitude_blocks(y, hop=hop)], axis=1)
    return {
        f"rms_{name}_ts": db.astype(np.float32),
        f"onset_envelope_{name}_ts": _fit(onset_strength_of_mel(mel, sr=sr, hop=hop), n_frames),
    }


def complete_track_series(
    y: np.ndarray,
    *,
    sr: int = SR,
    beat_activation: np.ndarray | None = None,
    downbeat_activation: np.ndarray | None = None,
    energies: dict[str, np.ndarray] | None = None,
    stems: dict[str, np.ndarray] | None = None,
    chords=None,
    beats: np.ndarray | None = None,
    downbeats: np.ndarray | None = None,
    sections=None,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Every whole-track series and the rate of each (frames per second): every series
    the crops know (:func:`crop_timeseries`) and more.

    The 100 Hz series of :func:`track_timeseries` and `onsets_activations_ts` (the onset
    envelope scaled to peak 1, :func:`onsets_activations`); with `beats` (s, and
    `downbeats`: the beat grid), the crops' `beat_activations_ts` and
    `downbeat_activations_ts` at 100 Hz (:func:`grid_activations`); the tonic and its
    strength at 1 Hz (:func:`tonic_series`, what the crops' `tonic_ts` is per step); with
    `stems` (name ->
    mono signal at `sr`), each stem's RMS and onset envelope at 100 Hz
    (:func:`stem_series`) and the f0 of the bass and other stems at 50 Hz with their voiced
    series (:func:`f0_series`); with `chords` (segments), the chord index at 10 Hz
    (:func:`chord_series`); with `sections` (the `structure` asset's), `section_idx_ts` and
    `section_position_ts` at 10 Hz (:func:`mir.structure.section_series`). Nothing is made
    up for a missing input: its fields are absent.

    Returns
    -------
    series : dict of name -> np.ndarray (float32)
    field_rates : dict of name -> float
    """
    series = track_timeseries(
        y,
        sr=sr,
        frame_rate=FRAME_RATE,
        beat_activation=beat_activation,
        downbeat_activation=downbeat_activation,
        energies=energies,
    )
    n_frames = series["onset_envelope_ts"].shape[0]
    series["onsets_activations_ts"] = onsets_activations(series["onset_envelope_ts"])
    if beats is not None:
        series.update(grid_activations(beats, downbeats, n_frames=n_frames))
    rates = {k: float(FRAME_RATE) for k in series}
    for k, v in tonic_series(series["hpcp_ts"]).items():
        series[k], rates[k] = v, float(TONIC_RATE)
    for name, signal in sorted((stems or {}).items()):
        for k, v in stem_series(signal, sr=sr, name=name, n_frames=n_frames).items():
            series[k], rates[k] = v, float(FRAME_RATE)
        if name in F0_STEMS:
            for k, v in f0_series(signal, sr=sr, name=name).items():
                series[k], rates[k] = v, float(F0_RATE)
    if chords is not None:
        series["chords_idx_ts"] = chord_series(chords, y.size / sr)
        rates["chords_idx_ts"] = float(CHORD_RATE)
    if sections:
        n = int(np.ceil(y.size / sr * SECTION_RATE))
        for k, v in section_series(sections, frame_rate=SECTION_RATE, n_frames=n).items():
            series[k], rates[k] = v, float(SECTION_RATE)
    return series, rates


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

    `meta` gets `fields` (the array names, sorted) added.

    Parameters
    ----------
    path : path-like
        The `.npz` to write; its folder is created when missing.
    arrays : dict
        `{name: array}`; each is stored as float32, in its own units (the series'
        declarations say which).
    meta : dict
        JSON-serialisable facts about the arrays (their frame rate in Hz, the duration in
        s, the source file, ...).
    """
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
    """The arrays and the `__meta__` dict of a file written by :func:`write_npz`.

    Parameters
    ----------
    path : path-like
        A `.npz` file.

    Returns
    -------
    arrays : dict
        `{name: np.ndarray}` as stored (float32 for those :func:`write_npz` wrote).
    meta : dict
        The `__meta__` JSON, with `fields`; `{}` for a file without one.
    """
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data[META_FIELD])) if META_FIELD in data.files else {}
        arrays = {k: data[k] for k in data.files if k != META_FIELD}
    return arrays, meta

"""Spectral shape, saturation and multiband RMS of the full mix."""

from __future__ import annotations

import numpy as np
import scipy.signal

from mir.audio import Audio
from mir.family import Track, Undefined, analysable
from mir.intermediates import SR, mono44, stft_magnitude

#: band edges in Hz (the original's FREQUENCY_BANDS)
FREQUENCY_BANDS = {
    "bass": (20.0, 120.0),
    "body": (120.0, 600.0),
    "mid": (600.0, 2500.0),
    "air": (2500.0, 22000.0),
}
RMS_FLOOR_DB = -60.0
#: frames (spectral shape) and samples (band RMS) worked on at once: the float64
#: temporaries stay this size however long the track, and the results are the same
BLOCK_FRAMES = 8192
BLOCK_SAMPLES = 1 << 20


def spectral_shape(mag: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame flatness, flux (L2), skewness and kurtosis of magnitude spectra.

    Same definitions as Essentia's `Flatness`, `Flux(norm="L2")` and
    `CentralMoments` + `DistributionShape` over bin index, vectorised over frames
    (in blocks of :data:`BLOCK_FRAMES`).
    """
    mag = np.asarray(mag)
    n_frames = mag.shape[1]
    if n_frames <= BLOCK_FRAMES:
        return _spectral_shape(mag)
    parts = []
    for a in range(0, n_frames, BLOCK_FRAMES):
        lead = 1 if a else 0  # the frame before the block, for the flux
        part = _spectral_shape(mag[:, a - lead : a + BLOCK_FRAMES])
        parts.append({k: v[lead:] for k, v in part.items()})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _spectral_shape(mag: np.ndarray) -> dict[str, np.ndarray]:
    mag = np.asarray(mag, dtype=np.float64)
    n_bins, _ = mag.shape
    k = np.arange(n_bins, dtype=np.float64) / (n_bins - 1)
    # raw moments of the bin index, every frame at once (one matrix product); the
    # central moments follow from them (float64: the cancellation costs < 1e-10)
    raw = np.vstack([np.ones(n_bins), k, k**2, k**3, k**4]) @ mag
    total = raw[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.all(mag > 0, axis=0)
        geo = np.exp(np.mean(np.log(np.where(mag > 0, mag, 1.0)), axis=0))
        flatness = np.where(positive, geo / (total / n_bins), 0.0)
        prev = np.concatenate([np.zeros((n_bins, 1)), mag[:, :-1]], axis=1)
        flux = np.sqrt(np.sum((mag - prev) ** 2, axis=0))
        mu = raw[1] / total
        e2, e3, e4 = raw[2] / total, raw[3] / total, raw[4] / total
        m2 = e2 - mu**2
        m3 = e3 - 3 * mu * e2 + 2 * mu**3
        m4 = e4 - 4 * mu * e3 + 6 * mu**2 * e2 - 3 * mu**4
        skewness = np.where(m2 > 0, m3 / m2**1.5, 0.0)
        kurtosis = np.where(m2 > 0, m4 / m2**2 - 3.0, -3.0)
    silent = total <= 0
    for arr in (skewness, kurtosis, flatness):
        arr[silent] = 0.0
    return {"flatness": flatness, "flux": flux, "skewness": skewness, "kurtosis": kurtosis}


def spectral_shape_of(audio: Audio) -> dict[str, np.ndarray]:
    """:func:`spectral_shape` of the shared STFT (2048 / 512), computed once per track."""
    return audio.cached("spectral_shape", lambda: spectral_shape(stft_magnitude(audio)))


def spectral_features(audio: Audio) -> dict[str, float]:
    """Medians over frames of `spectral_flatness` (0-1), `spectral_flux`,
    `spectral_skewness`, `spectral_kurtosis`, from the shared STFT (2048 / 512)."""
    shape = spectral_shape_of(audio)
    return {f"spectral_{k}": round(float(np.median(v)), 6) for k, v in shape.items()}


def saturation(samples: np.ndarray, *, sr: int, threshold: float = 0.95) -> dict[str, float]:
    """Regions whose envelope sits near full scale.

    Per-frame peak over 256-sample frames (all channels); frames >= `threshold` are
    flagged, gaps <= 20 ms bridged, regions < 10 ms dropped. Returns
    `saturation_ratio` (share of the duration) and `saturation_count` (regions).
    """
    samples = np.asarray(samples)
    frame = 256
    n = samples.shape[0] // frame
    if n == 0:
        return {"saturation_ratio": 0.0, "saturation_count": 0}
    step = frame * (BLOCK_SAMPLES // frame)  # blocks of whole frames: no |x| of the track
    parts = []
    for a in range(0, n * frame, step):
        x = np.abs(samples[a : min(a + step, n * frame)])
        if x.ndim == 2:
            x = x.max(axis=1)
        parts.append(x.reshape(-1, frame).max(axis=1))
    peaks = np.concatenate(parts)
    flagged = peaks >= threshold
    frame_s = frame / sr
    # regions as (start, end) frame indices
    edges = np.diff(np.concatenate([[0], flagged.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    regions: list[list[int]] = []
    for s, e in zip(starts, ends, strict=True):
        if regions and (s - regions[-1][1]) * frame_s <= 0.020:
            regions[-1][1] = e
        else:
            regions.append([s, e])
    regions = [r for r in regions if (r[1] - r[0]) * frame_s >= 0.010]
    covered = sum(e - s for s, e in regions)
    return {"saturation_ratio": round(covered / n, 6), "saturation_count": len(regions)}


def band_sos(low: float, high: float, *, sr: int) -> np.ndarray:
    """5th-order Butterworth band-pass (SOS), edges clamped to 0.1-99.9 % of Nyquist."""
    nyq = sr / 2.0
    lo = min(max(low / nyq, 0.001), 0.999)
    hi = min(max(high / nyq, 0.001), 0.999)
    return scipy.signal.butter(5, [lo, hi], btype="bandpass", output="sos")


def band_rms_db(y: np.ndarray, *, sr: int, low: float, high: float) -> float:
    """RMS level (dBFS, floor -60) of `y` band-passed by :func:`band_sos`.

    Filtered in blocks of :data:`BLOCK_SAMPLES`, the filter state carried across."""
    sos = band_sos(low, high, sr=sr)
    state = np.zeros((sos.shape[0], 2))
    energy = 0.0
    for a in range(0, y.size, BLOCK_SAMPLES):
        block = np.asarray(y[a : a + BLOCK_SAMPLES], dtype=np.float64)
        filtered, state = scipy.signal.sosfilt(sos, block, zi=state)
        energy += float(np.dot(filtered, filtered))
    rms = float(np.sqrt(energy / y.size)) if y.size else 0.0
    return round(float(max(20.0 * np.log10(rms), RMS_FLOOR_DB)) if rms > 0 else RMS_FLOOR_DB, 3)


def step_starts(n_items: int, n_steps: int) -> np.ndarray:
    """First item of each of `n_steps` equal bins of `n_items` (and `n_items` at the end).

    Item i falls in bin floor(i * n_steps / n_items), so bin s starts at
    ceil(s * n_items / n_steps); a bin is empty when there are fewer items than bins.
    """
    s = np.arange(n_steps + 1, dtype=np.int64)
    return -(-s * n_items // n_steps)


def band_energies(y: np.ndarray, *, sr: int, n_steps: int) -> dict[str, np.ndarray]:
    """Per frequency band, the sum of squares of `y` band-passed by :func:`band_sos` over
    each of `n_steps` equal bins (see :func:`step_starts`).

    The band-pass runs over blocks of :data:`BLOCK_SAMPLES` with its state carried across,
    and each block's squares are summed into their bins: time and memory grow linearly
    with the signal, whatever `n_steps`."""
    n = y.size
    out = {}
    for name, (lo, hi) in FREQUENCY_BANDS.items():
        sos = band_sos(lo, hi, sr=sr)
        state = np.zeros((sos.shape[0], 2))
        sums = np.zeros(n_steps)
        for a in range(0, n, BLOCK_SAMPLES):
            block = np.asarray(y[a : a + BLOCK_SAMPLES], dtype=np.float64)
            filtered, state = scipy.signal.sosfilt(sos, block, zi=state)
            bins = np.arange(a, a + block.size, dtype=np.int64) * n_steps // n
            first = int(bins[0])
            sums[first : int(bins[-1]) + 1] += np.bincount(bins - first, weights=filtered**2)
        out[name] = sums
    return out


#: samples per step of the whole-track series (100 per second at 44.1 kHz)
SERIES_HOP = SR // 100


def series_steps(n_samples: int) -> int:
    """Steps of the 100 Hz whole-track series of a 44.1 kHz signal of `n_samples`."""
    return -(-n_samples // SERIES_HOP)


def band_energies_of(audio: Audio, n_steps: int | None = None) -> dict[str, np.ndarray]:
    """:func:`band_energies` of the 44.1 kHz mono mix, once per track and step count
    (default: the steps of the 100 Hz series); the band levels and the series share it."""
    y = mono44(audio)
    n_steps = n_steps or series_steps(y.size)
    return audio.cached(
        ("band_energies", n_steps), lambda: band_energies(y, sr=SR, n_steps=n_steps)
    )


def multiband_rms(audio: Audio, *, n_steps: int | None = None) -> dict[str, float]:
    """`rms_energy_bass/body/mid/air` in dBFS (floor -60) of the 44.1 kHz mono mix, from
    :func:`band_energies_of` (`n_steps`: the bins a time series of the same audio uses)."""
    n = mono44(audio).size
    out = {}
    for name, sums in band_energies_of(audio, n_steps).items():
        rms = float(np.sqrt(sums.sum() / n)) if n else 0.0
        db = max(20.0 * np.log10(rms), RMS_FLOOR_DB) if rms > 0 else RMS_FLOOR_DB
        out[f"rms_energy_{name}"] = round(float(db), 3)
    return out


@analysable
def zero_crossing_rate(track: Track) -> dict:
    """`zero_crossing_rate`: the share of adjacent samples of the 44.1 kHz mono mix whose
    signs differ (0-1; a sine of f Hz gives 2 f / 44100), in blocks of
    :data:`BLOCK_SAMPLES`. Undefined for fewer than two samples (a track shorter than the shortest analysis is
    refused before)."""
    y = mono44(track.audio)
    if y.size < 2:
        return {"zero_crossing_rate": Undefined("fewer than two samples")}
    negative = np.signbit(y)
    changes = 0
    for start in range(0, y.size - 1, BLOCK_SAMPLES):
        block = negative[start : start + BLOCK_SAMPLES + 1]
        changes += int(np.count_nonzero(block[1:] != block[:-1]))
    return {"zero_crossing_rate": changes / (y.size - 1)}

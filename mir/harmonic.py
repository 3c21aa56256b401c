"""Harmonic features: chroma, HPCP, tonal interval vector, per-stem harmonic motion, and
the key read from them (estimated in :mod:`mir.key`).

One pitch reference throughout: Essentia's HPCP is computed with A = 440 Hz as bin 0
(what Essentia's `Key` profiles expect) and rotated once so that `hpcp_0` is C, like
`chroma_0`.
"""

from __future__ import annotations

import numpy as np

from mir._essentia import algorithm
from mir.audio import Audio
from mir.intermediates import SR
from mir.key import KeyCnnRows, estimate_key, key_cnn_rows

#: HPCP bin 0 is A; C is three semitones above it
_A_TO_C_SHIFT = 3
TIV_WEIGHTS = (3.0, 8.0, 11.5, 15.0, 14.5, 7.5)
#: the CQT of a long track is taken in blocks of this many frames of hop 2048 (about
#: 5 min), each with real audio on both sides (about 3 s: more than the longest filter,
#: C1's), so memory does not grow with the track; the blocks share the track's tuning
CHROMA_BLOCK_FRAMES = 6400
CHROMA_CONTEXT_FRAMES = 64


def hpcp_frames(
    y: np.ndarray, *, sr: int = SR, frame_size: int = 4096, hop_size: int = 2048
) -> np.ndarray:
    """Per-frame 12-bin HPCP (Essentia; A = bin 0, 440 Hz), shape (frames, 12)."""
    import essentia.standard as es

    window = algorithm("Windowing", type="hann", size=frame_size)
    spectrum = algorithm("Spectrum", size=frame_size)
    peaks = algorithm(
        "SpectralPeaks",
        maxPeaks=100,
        magnitudeThreshold=1e-5,
        minFrequency=40,
        maxFrequency=5000,
        sampleRate=sr,
    )
    hpcp = algorithm(
        "HPCP",
        size=12,
        harmonics=8,
        minFrequency=40,
        maxFrequency=5000,
        weightType="cosine",
        nonLinear=True,
        normalized="unitMax",
        referenceFrequency=440.0,
        sampleRate=sr,
    )
    frames = []
    for frame in es.FrameGenerator(
        np.ascontiguousarray(y, dtype=np.float32),  # no copy of a float32 track
        frameSize=frame_size,
        hopSize=hop_size,
        startFromZero=True,
    ):
        freqs, mags = peaks(spectrum(window(frame)))
        frames.append(hpcp(freqs, mags))
    return np.array(frames, dtype=np.float64).reshape(-1, 12)


def hpcp_of(audio: Audio, *, frame_size: int = 4096, hop_size: int = 2048) -> np.ndarray:
    """:func:`hpcp_frames` of the 44.1 kHz mono view, once per track (or crop) and framing."""
    return audio.cached(
        ("hpcp", frame_size, hop_size),
        lambda: hpcp_frames(audio.mono(SR), frame_size=frame_size, hop_size=hop_size),
    )


def key_cnn_rows_of(audio: Audio) -> KeyCnnRows | None:
    """:func:`mir.key.key_cnn_rows` of the 44.1 kHz mono view, once per track: the track's
    key and each crop's (the rows inside it) read the same network output."""
    return audio.cached("key_cnn_rows", lambda: key_cnn_rows(audio.mono(SR)))


def to_c_based(hpcp_a: np.ndarray) -> np.ndarray:
    """Rotate A-based HPCP bins so that index 0 is C."""
    return np.roll(hpcp_a, -_A_TO_C_SHIFT, axis=-1)


def tonal_interval_vector(pcp_c: np.ndarray) -> np.ndarray:
    """TIV: DFT of the L1-normalised pitch-class profile, k = 1..6 weighted, Re/Im interleaved, L2-normalised."""
    total = pcp_c.sum()
    if total <= 0:
        return np.zeros(12)
    spectrum = np.fft.fft(pcp_c / total)[1:7] * np.array(TIV_WEIGHTS)
    tiv = np.empty(12)
    tiv[0::2], tiv[1::2] = spectrum.real, spectrum.imag
    norm = np.linalg.norm(tiv)
    return tiv / norm if norm > 0 else tiv


def harmonic_features(
    y: np.ndarray,
    *,
    sr: int = SR,
    frames: np.ndarray | None = None,
    cnn: np.ndarray | None = None,
    chords=None,
) -> dict[str, float | str]:
    """`hpcp_0..11` (C = 0, max bin 1), `tiv_0..11`, `tonic` (0-11, C = 0), `tonic_scale`,
    `tonic_strength` (0-1, the edmm profile's), `key_confidence` (0-1), `key_source`.

    The key is :func:`estimate_key`'s. `frames`: :func:`hpcp_frames` of `y` (4096 / 2048)
    when already computed; `cnn`: the key network's probabilities of `y` when already
    computed (:func:`key_cnn_rows_of`); `chords`: the chord segments of `y`
    (:func:`mir.chords.chords_of`) the tonic chord is read from."""
    frames = hpcp_frames(y, sr=sr) if frames is None else frames
    out: dict[str, float | str] = {}
    mean_a = frames.mean(axis=0) if frames.size else np.zeros(12)
    if mean_a.max() <= 0:
        out.update({f"hpcp_{i}": 0.0 for i in range(12)})
        out.update({f"tiv_{i}": 0.0 for i in range(12)})
        out.update({"tonic": 0, "tonic_strength": 0.0, "tonic_scale": "unknown"})
        out.update({"key_confidence": 0.0, "key_source": "none"})
        return out
    mean_a = mean_a / mean_a.max()
    key, strength = estimate_key(mean_a, to_c_based(frames), y, sr=sr, cnn=cnn, chords=chords)
    hpcp_c = to_c_based(mean_a)
    tiv = tonal_interval_vector(hpcp_c)
    out.update({f"hpcp_{i}": round(float(v), 6) for i, v in enumerate(hpcp_c)})
    out.update({f"tiv_{i}": round(float(v), 6) for i, v in enumerate(tiv)})
    out.update(
        {
            "tonic": key.tonic,
            "tonic_strength": round(strength, 4),
            "tonic_scale": key.scale,
            "key_confidence": key.confidence,
            "key_source": key.source,
        }
    )
    return out


#: frames of the STFT whose pitches are tracked at once by :func:`estimate_tuning`
TUNING_BLOCK_FRAMES = 4096


def estimate_tuning(mag: np.ndarray, *, sr: int = SR) -> float:
    """The deviation from A440 tuning, in fractions of a 36-per-octave bin, that librosa's
    `chroma_cqt` estimates for itself, from an existing |STFT| (n_fft 2048, hop 512; any
    gain: the estimate only compares bins of a frame).

    librosa's `estimate_tuning` runs `piptrack` (per frame) over the whole spectrogram,
    which holds several float copies of it at once (about 8 GB for an hour); here the
    frames go through `piptrack` in blocks, and only its peaks (pitch, magnitude) are kept
    for the median threshold and the tuning histogram that follow: the same estimate."""
    import librosa

    pitches, mags = [], []
    for a in range(0, mag.shape[1], TUNING_BLOCK_FRAMES):
        pitch, strength = librosa.piptrack(S=mag[:, a : a + TUNING_BLOCK_FRAMES], sr=sr)
        found = pitch > 0
        pitches.append(pitch[found])
        mags.append(strength[found])
    pitch, strength = np.concatenate(pitches), np.concatenate(mags)
    threshold = np.median(strength) if strength.size else 0.0
    return float(librosa.pitch_tuning(pitch[strength >= threshold], bins_per_octave=36))


def chroma_features(
    y: np.ndarray, *, sr: int = SR, tuning: float | None = None
) -> dict[str, float]:
    """`chroma_0..11` (C = 0): mean CQT chroma (fmin C1, 7 octaves, hop 2048), summing to 1.

    `tuning` is :func:`estimate_tuning` of the track (from its shared STFT); without it,
    it is estimated here from `y`. One tuning serves every block of a long track."""
    import librosa

    if tuning is None:
        from mir.intermediates import magnitude_spectrogram

        tuning = estimate_tuning(magnitude_spectrogram(y), sr=sr)
    hop, ctx = 2048, CHROMA_CONTEXT_FRAMES
    n_frames = 1 + y.size // hop  # centred frames, as librosa counts them
    total_chroma = np.zeros(12)
    for f0 in range(0, n_frames, CHROMA_BLOCK_FRAMES):
        f1 = min(f0 + CHROMA_BLOCK_FRAMES, n_frames)
        c0 = max(f0 - ctx, 0)
        piece = y[c0 * hop : (f1 + ctx) * hop]
        chroma = librosa.feature.chroma_cqt(
            y=piece,
            sr=sr,
            hop_length=hop,
            fmin=librosa.note_to_hz("C1"),
            n_octaves=7,
            tuning=tuning,
        )
        total_chroma += chroma[:, f0 - c0 : f1 - c0].sum(axis=1)
    mean = total_chroma / n_frames
    total = mean.sum()
    mean = mean / total if total > 0 else mean
    return {f"chroma_{i}": round(float(v), 6) for i, v in enumerate(mean)}


def harmonic_input(mix: Audio, stems: dict[str, Audio] | None) -> tuple[np.ndarray, str]:
    """The signal key and chroma are read from: bass + other stems (peak 0.95) when present, else the mix."""
    if stems and "bass" in stems and "other" in stems:
        b, o = stems["bass"].mono(SR), stems["other"].mono(SR)
        n = min(b.size, o.size)
        y = b[:n] + o[:n]
        peak = np.abs(y).max()
        if peak > 0:
            return (y * (0.95 / peak)).astype(np.float32), "bass+other"
    return mix.mono(SR), "full_mix"


def stem_harmonic(stem: Audio, *, name: str) -> dict[str, float]:
    """`harmonic_movement_<name>` and `harmonic_variance_<name>` (0-1) from CQT chroma (hop 512)."""
    import librosa

    y = stem.mono(SR)
    chroma = stem.cached(
        "chroma_cqt_512",
        lambda: librosa.feature.chroma_cqt(
            y=y, sr=SR, hop_length=512, fmin=librosa.note_to_hz("C1")
        ),
    )
    sums = chroma.sum(axis=0, keepdims=True)
    norm = np.divide(chroma, sums, out=np.zeros_like(chroma), where=sums > 0)
    if norm.shape[1] < 2:
        return {f"harmonic_movement_{name}": 0.0, f"harmonic_variance_{name}": 0.0}
    movement = np.linalg.norm(np.diff(norm, axis=1), axis=0).mean() / np.sqrt(2)
    variance = norm.var(axis=1).mean() / 0.1
    return {
        f"harmonic_movement_{name}": round(float(min(movement, 1.0)), 4),
        f"harmonic_variance_{name}": round(float(min(variance, 1.0)), 4),
    }

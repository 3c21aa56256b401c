"""Shared intermediates of a track, computed once and cached on its :class:`~mir.audio.Audio`.

Every feature asks here for the representation it needs (44.1 kHz mono, the STFT
magnitude, the onset envelope, the detected onsets); the first caller computes it and
the rest reuse it. Nothing here re-reads or re-decodes a file.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from mir.audio import Audio

#: the analysis rate of every feature (madmom's and Essentia's models expect it)
SR = 44100
N_FFT = 2048
HOP = 512
#: frames of the STFT taken at once: the complex spectrum of a block, not of the track,
#: is what sits in memory beside the magnitudes
STFT_BLOCK_FRAMES = 8192


def mono44(audio: Audio) -> np.ndarray:
    """Mono at 44.1 kHz (float32)."""
    return audio.mono(SR)


def _window() -> np.ndarray:
    window = np.hanning(N_FFT + 1)[:-1]  # periodic Hann, librosa's "hann"
    return window * (2.0 / window.sum())


#: |STFT| with :func:`_window` is this factor times |STFT| with librosa's plain "hann"
WINDOW_GAIN = 2.0 / (N_FFT / 2.0)


def magnitude_blocks(
    y: np.ndarray, *, hop: int = HOP, block_frames: int = STFT_BLOCK_FRAMES
) -> Iterator[tuple[int, np.ndarray]]:
    """The frames of :func:`magnitude_spectrogram`, `block_frames` at a time.

    Yields `(first frame, |STFT| block)`; the blocks put together equal the whole
    spectrogram bit for bit, and only one block's complex spectrum is in memory.
    """
    import librosa

    window = _window()
    n_frames = 1 + y.size // hop
    if n_frames <= block_frames:
        yield (
            0,
            np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=hop, window=window, center=True)).astype(
                np.float32
            ),
        )
        return
    # frame f is centred on sample f * hop, zeros beyond the signal (librosa's centring)
    half = N_FFT // 2
    for f0 in range(0, n_frames, block_frames):
        f1 = min(f0 + block_frames, n_frames)
        start, stop = f0 * hop - half, (f1 - 1) * hop + half
        piece = y[max(start, 0) : min(stop, y.size)]
        if start < 0 or stop > y.size:
            piece = np.pad(piece, (max(-start, 0), max(stop - y.size, 0)))
        spectrum = librosa.stft(piece, n_fft=N_FFT, hop_length=hop, window=window, center=False)
        yield f0, np.abs(spectrum).astype(np.float32, copy=False)


def magnitude_spectrogram(y: np.ndarray, *, hop: int = HOP) -> np.ndarray:
    """|STFT| of a mono signal, shape (1 + N_FFT/2, frames), float32.

    Hann window of N_FFT samples normalised as Essentia's `Windowing(normalized=True)`
    (the window sums to 2), frames centred. Values are comparable with Essentia's
    `Spectrum` output. Computed in blocks of :data:`STFT_BLOCK_FRAMES` frames.
    """
    n_frames = 1 + y.size // hop
    out = None
    for f0, block in magnitude_blocks(y, hop=hop):
        if f0 == 0 and block.shape[1] == n_frames:
            return block
        if out is None:
            out = np.empty((block.shape[0], n_frames), dtype=np.float32)
        out[:, f0 : f0 + block.shape[1]] = block
    return out


def mel_power(mag: np.ndarray, *, sr: int = SR) -> np.ndarray:
    """librosa's default 128-band mel power spectrogram from a block of
    :func:`magnitude_spectrogram` (its window gain undone): what
    `librosa.feature.melspectrogram(y=...)` gives for the same frames."""
    return _mel_basis(sr) @ ((mag / WINDOW_GAIN) ** 2)


@functools.cache
def _mel_basis(sr: int) -> np.ndarray:
    """librosa's default mel filterbank (128 bands, Slaney), built once per rate: its
    `melspectrogram` rebuilds it on every call and projects through `einsum`."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=N_FFT)


def onset_strength_of_mel(mel: np.ndarray, *, sr: int = SR, hop: int) -> np.ndarray:
    """`librosa.onset.onset_strength(y=..., hop_length=hop)` from the whole signal's
    :func:`mel_power` (the dB conversion's 80 dB floor is relative to the track's maximum,
    so it is applied to all frames at once)."""
    import librosa

    return librosa.onset.onset_strength(
        S=librosa.power_to_db(mel), sr=sr, hop_length=hop, n_fft=N_FFT
    )


def stft_magnitude(audio: Audio) -> np.ndarray:
    """:func:`magnitude_spectrogram` of the 44.1 kHz mono signal at hop HOP, computed once."""
    return audio.cached("stft_magnitude", lambda: magnitude_spectrogram(mono44(audio)))


def onset_envelope(audio: Audio) -> np.ndarray:
    """librosa's spectral-flux onset strength (hop 512) at 44.1 kHz, from the shared STFT."""

    def compute():
        import librosa

        mag = stft_magnitude(audio)
        mel = np.concatenate(  # by blocks: no squared copy of the whole STFT
            [
                _mel_basis(SR) @ (mag[:, a : a + STFT_BLOCK_FRAMES] ** 2)
                for a in range(0, mag.shape[1], STFT_BLOCK_FRAMES)
            ],
            axis=1,
        )
        return librosa.onset.onset_strength(
            S=librosa.power_to_db(mel, ref=np.max), sr=SR, hop_length=HOP
        )

    return audio.cached("onset_envelope", compute)


def onset_frames(audio: Audio) -> tuple[np.ndarray, np.ndarray]:
    """Detected onsets as (peak frames, backtracked frames) of :func:`onset_envelope`."""

    def compute():
        import librosa

        env = onset_envelope(audio)
        peaks = librosa.onset.onset_detect(
            onset_envelope=env, sr=SR, hop_length=HOP, backtrack=False
        )
        back = librosa.onset.onset_backtrack(peaks, env) if peaks.size else peaks
        return peaks, back

    return audio.cached("onset_frames", compute)


def onset_times(audio: Audio) -> np.ndarray:
    """Backtracked onset times in seconds (what `.ONSETS` holds)."""
    import librosa

    _, back = onset_frames(audio)
    return librosa.frames_to_time(back, sr=SR, hop_length=HOP)

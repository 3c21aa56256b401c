"""Shared intermediates of a track, computed once and cached on its :class:`~mir.audio.Audio`.

Every feature asks here for the representation it needs (44.1 kHz mono, the STFT
magnitude, the onset envelope, the detected onsets); the first caller computes it and
the rest reuse it. Nothing here re-reads or re-decodes a file.
"""

from __future__ import annotations

import numpy as np

from mir.audio import Audio

#: the analysis rate of every feature (madmom's and Essentia's models expect it)
SR = 44100
N_FFT = 2048
HOP = 512


def mono44(audio: Audio) -> np.ndarray:
    """Mono at 44.1 kHz (float32)."""
    return audio.mono(SR)


def magnitude_spectrogram(y: np.ndarray, *, hop: int = HOP) -> np.ndarray:
    """|STFT| of a mono signal, shape (1 + N_FFT/2, frames), float32.

    Hann window of N_FFT samples normalised as Essentia's `Windowing(normalized=True)`
    (the window sums to 2), frames centred. Values are comparable with Essentia's
    `Spectrum` output.
    """
    import librosa

    window = np.hanning(N_FFT + 1)[:-1]
    window = window * (2.0 / window.sum())
    return np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=hop, window=window, center=True)).astype(
        np.float32
    )


def stft_magnitude(audio: Audio) -> np.ndarray:
    """:func:`magnitude_spectrogram` of the 44.1 kHz mono signal at hop HOP, computed once."""
    return audio.cached("stft_magnitude", lambda: magnitude_spectrogram(mono44(audio)))


def onset_envelope(audio: Audio) -> np.ndarray:
    """librosa's spectral-flux onset strength (hop 512) at 44.1 kHz, from the shared STFT."""

    def compute():
        import librosa

        mel = librosa.feature.melspectrogram(S=stft_magnitude(audio) ** 2, sr=SR)
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

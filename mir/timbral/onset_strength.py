"""The onset spectrogram of the timbral models' onset detection: librosa's
`onset_strength` front end as `timbral_util.calculate_onsets` (timbral_models 0.4.0)
calls it, its mel spectrogram filled frame block by frame block.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal

#: onset-strength frames differenced at once
_STRENGTH_BLOCK = 4096


class MelDb:
    """librosa's `onset_strength(y, sr)` front end, frames pushed in blocks: the power
    mel spectrogram (128 bands, Hann window of 2048, hop 512, centred, zero padding) in
    dB (float32), clipped 80 dB below its maximum at the end."""

    N_FFT, HOP = 2048, 512

    def __init__(self, n: int, sr: int):
        import librosa

        self.sr = sr
        self.basis = librosa.filters.mel(sr=sr, n_fft=self.N_FFT)
        self.window = scipy.signal.get_window("hann", self.N_FFT)
        self.db = np.empty((self.basis.shape[0], 1 + n // self.HOP), dtype=np.float32)
        self.filled = 0

    def push_spectrum(self, power: np.ndarray) -> None:
        """Add frames given as |STFT|^2, shape (frames, 1025)."""
        mel = power @ self.basis.T.astype(power.dtype)
        count = mel.shape[0]
        self.db[:, self.filled : self.filled + count] = (
            10.0 * np.log10(np.maximum(mel.dtype.type(1e-10), mel))
        ).T
        self.filled += count

    def push(self, frames: np.ndarray) -> None:
        spectrum = scipy.fft.rfft(frames * self.window.astype(frames.dtype), axis=1)
        self.push_spectrum(spectrum.real**2 + spectrum.imag**2)

    def strength(self) -> np.ndarray:
        """The onset strength envelope: librosa's `onset_strength(S=db)` (the mean over the
        bands of the positive differences from one frame to the next, delayed by three
        frames), taken a block of frames at a time instead of through full-size copies."""
        db = self.db[:, : self.filled]
        np.maximum(db, db.max() - np.float32(80.0), out=db)
        out = np.zeros(db.shape[1], dtype=db.dtype)
        for c0 in range(0, db.shape[1] - 3, _STRENGTH_BLOCK):
            c1 = min(c0 + _STRENGTH_BLOCK, db.shape[1] - 3)
            flux = np.maximum(0.0, db[:, c0 + 1 : c1 + 1] - db[:, c0:c1])
            out[c0 + 3 : c1 + 3] = np.mean(flux, axis=0)
        return out

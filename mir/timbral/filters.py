"""Filters and framing of the timbral models (timbral_models 0.4.0, `timbral_util.py`:
`filter_audio_highpass` / `filter_audio_lowpass`; the scipy spectrograms and librosa STFT
framing the models call), over a signal pushed block by block with the same numbers as
over the whole signal.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

from mir.timbral.signal import MonoSignal


def butter_cascade(kind: str, freq: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """The package's `filter_audio_highpass/lowpass`: a 2nd-order Butterworth (it runs
    it three times, for -18 dB/octave)."""
    return scipy.signal.butter(2, freq / (0.5 * sr), kind)


class Filter:
    """A filter run three times over a signal pushed block by block, as three `lfilter`
    passes over the whole signal (the state of each carried over: the same numbers)."""

    def __init__(self, ba: tuple[np.ndarray, np.ndarray]):
        self.b, self.a = ba
        self.zi = [np.zeros(2) for _ in range(3)]

    def __call__(self, y: np.ndarray) -> np.ndarray:
        for i in range(3):
            y, self.zi[i] = scipy.signal.lfilter(self.b, self.a, y, zi=self.zi[i])
        return y


def dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Matrix times vector without BLAS: numpy's own loop, where a multithreaded BLAS
    spends more on its threads than on these small products."""
    return np.einsum("ij,j->i", matrix, vector)


class Framer:
    """The complete frames (`size` samples every `hop`, from sample 0) of a signal pushed
    block by block: scipy's spectrogram framing without padding."""

    def __init__(self, size: int, hop: int):
        self.size, self.hop = size, hop
        self.buf = np.zeros(0)

    def _push(self, y: np.ndarray) -> tuple[np.ndarray, int]:
        buf = np.concatenate([self.buf, y]) if self.buf.size else y
        count = (buf.size - self.size) // self.hop + 1 if buf.size >= self.size else 0
        self.buf = buf[count * self.hop :]
        return buf, count

    def __call__(self, y: np.ndarray) -> np.ndarray:
        buf, count = self._push(y)
        if not count:
            return np.zeros((0, self.size), dtype=y.dtype)
        return sliding_window_view(buf, self.size)[:: self.hop][:count]

    def power(self, y: np.ndarray, window: np.ndarray) -> np.ndarray:
        """For each new frame, the sum over the one-sided bins of scipy's
        `spectrogram(..., window, detrend='constant', scaling='spectrum')`. With the
        one-sided doubling the bins add up to the full spectrum's, so by Parseval it is
        nfft * sum((window * (frame - mean))^2) / sum(window)^2: no FFT. The sums go by
        hop-long chunks (size = 4 hops), each chunk once per window quarter."""
        buf, count = self._push(y)
        if not count:
            return np.zeros(0)
        hop, parts = self.hop, self.size // self.hop
        chunks = buf[: (count + parts - 1) * hop].reshape(-1, hop)
        squares = chunks * chunks
        w2 = window * window
        sum_w2x2 = np.zeros(count)
        sum_w2x = np.zeros(count)
        sum_x = np.zeros(count)
        for q in range(parts):
            quarter = w2[q * hop : (q + 1) * hop]
            sum_w2x2 += dot(squares[q : q + count], quarter)
            sum_w2x += dot(chunks[q : q + count], quarter)
            sum_x += chunks[q : q + count].sum(axis=1)
        mean = sum_x / self.size
        energy = sum_w2x2 - 2.0 * mean * sum_w2x + mean * mean * w2.sum()
        return energy * self.size / window.sum() ** 2


def spectral_power(frames: np.ndarray, window: np.ndarray, dtype=np.float64) -> np.ndarray:
    """One-sided `spectrogram(..., window, detrend='constant', scaling='spectrum')` of each
    frame (rows): |FFT|^2 / sum(window)^2, doubled but for DC and Nyquist. float32 where
    only centroids are taken (they differ from float64's in the 7th digit)."""
    frames = frames.astype(dtype, copy=False)
    spectrum = scipy.fft.rfft(frames * window.astype(dtype), axis=1)
    # removing the frame's mean first changes only the bins where the window's own
    # spectrum is not zero: DC and the first bin for the (periodic) Hamming window
    mean = frames.mean(axis=1, dtype=np.float64)
    lobe = scipy.fft.rfft(window)[:2]
    spectrum[:, :2] -= (mean[:, None] * lobe[None, :]).astype(spectrum.dtype)
    power = np.square(spectrum.real, dtype=np.float64)
    power += np.square(spectrum.imag, dtype=np.float64)
    power *= 1.0 / window.sum() ** 2
    power[:, 1:-1] *= 2
    return power


def short_spectral_power(y: np.ndarray, nfft: int) -> np.ndarray:
    """The packages's spectrogram of a signal shorter than its FFT: one frame of the
    whole signal (its own Hamming window), zero-padded to `nfft`."""
    window = scipy.signal.get_window("hamming", y.size)
    spectrum = scipy.fft.rfft((y - y.mean()) * window, nfft)
    power = (spectrum.real**2 + spectrum.imag**2) / window.sum() ** 2
    power[1:-1] *= 2
    return power[None, :]


def centred_frames(src: MonoSignal, f0: int, f1: int, *, offset: int = 0) -> np.ndarray:
    """Frames f0..f1-1 of librosa's centred STFT framing (2048 samples, hop 512) of the
    signal delayed by `offset` zeros (the hardness model pads 4097 zeros in front)."""
    y = src.x(f0 * 512 - 1024 - offset, (f1 - 1) * 512 + 1024 - offset)
    return sliding_window_view(y, 2048)[::512]

"""Audio input: decode a file once, derive the views features need from it.

wav, flac, aiff, ogg and mp3 are decoded by soundfile (libsndfile); m4a and aac by
Essentia's AudioLoader (its own FFmpeg build, so no system ffmpeg is needed).
Every failure is an :class:`~mir.errors.AudioError` naming the file and the reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from mir.errors import AudioError

#: decoded by soundfile
SOUNDFILE_EXTENSIONS = frozenset({"wav", "flac", "aiff", "aif", "ogg", "mp3"})
#: decoded by Essentia's AudioLoader
ESSENTIA_EXTENSIONS = frozenset({"m4a", "aac", "mp4"})
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS | ESSENTIA_EXTENSIONS


@dataclass(eq=False)
class Audio:
    """A decoded track.

    Attributes
    ----------
    samples : np.ndarray, shape (n_samples, n_channels)
        float32 samples, full scale -1 .. 1 (a decoded file may hold samples beyond it).
    sr : int
        Sample rate in Hz (> 0).
    path : Path or None
        The file it was decoded from.
    """

    samples: np.ndarray
    sr: int
    path: Path | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_samples(self) -> int:
        """Samples per channel (≥ 0)."""
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        """Channels (≥ 1)."""
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration in seconds (≥ 0): `n_samples / sr`."""
        return self.n_samples / float(self.sr)

    def mono(self, sr: int | None = None) -> np.ndarray:
        """The channel mean as a 1-d float32 array, resampled to `sr` Hz if given.

        Each (rate) view is computed once and cached on the object, so every feature
        that asks for, say, 44.1 kHz mono shares one array.

        Parameters
        ----------
        sr : int, optional
            Target sample rate in Hz (> 0); default the track's own. Resampled with
            soxr's HQ filter.

        Returns
        -------
        np.ndarray
            Shape (n,), float32, full scale -1 .. 1; n is about `n_samples * sr /
            self.sr`. The cached array itself: do not modify it.
        """
        sr = sr or self.sr
        key = ("mono", sr)
        if key not in self._cache:
            if sr == self.sr:
                y = np.ascontiguousarray(self.samples.mean(axis=1), dtype=np.float32)
            else:
                y = resample(self.mono(), orig_sr=self.sr, target_sr=sr)
            self._cache[key] = y
        return self._cache[key]

    def stereo(self) -> np.ndarray:
        """The first two channels.

        Returns
        -------
        np.ndarray
            Shape (n_samples, 2), float32, full scale -1 .. 1: mono is duplicated, extra
            channels are dropped.
        """
        if self.channels == 2:
            return self.samples
        if self.channels == 1:
            return np.repeat(self.samples, 2, axis=1)
        return self.samples[:, :2]

    def cached(self, key: str, compute):
        """Memoise a shared intermediate (STFT, onset envelope, ...) on this track.

        Parameters
        ----------
        key : hashable
            The intermediate's name (with its parameters, e.g. `("mono", 44100)`).
        compute : callable
            `compute()` gives the value; called only on the first request of `key`.

        Returns
        -------
        object
            What `compute` returned, the first time or since.
        """
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a 1-d signal (librosa's soxr_hq)."""
    if orig_sr == target_sr:
        return y
    import librosa

    out = librosa.resample(y, orig_sr=orig_sr, target_sr=target_sr, res_type="soxr_hq")
    return out.astype(np.float32, copy=False)


def extension(path: str | os.PathLike) -> str:
    return Path(path).suffix.lower().lstrip(".")


def load_audio(path: str | os.PathLike) -> Audio:
    """Decode an audio file to float32 samples at its native rate.

    Parameters
    ----------
    path : path-like
        A wav, flac, aiff, ogg, mp3, m4a or aac file.

    Returns
    -------
    Audio
        float32 samples, shape (n_samples, channels), at the file's own rate in Hz (no
        resampling), every sample finite.

    Raises
    ------
    AudioError
        Missing, empty, unreadable, truncated, non-audio, or shorter than
        :data:`SHORTEST_ANALYSIS_S`; the message says which.
    """
    path = Path(path)
    ext = _check_file(path)
    if ext in ESSENTIA_EXTENSIONS:
        samples, sr = _load_with_essentia(path)
    else:
        samples, sr = _load_with_soundfile(path)
    if samples.shape[0] == 0:
        raise AudioError(path, "no audio samples could be decoded")
    check_duration(path, samples.shape[0], int(sr))
    if not np.all(np.isfinite(samples)):
        raise AudioError(path, "decoded samples contain NaN or infinity")
    return Audio(samples=samples, sr=int(sr), path=path)


#: seconds read at the start, the middle and the end of a file by :func:`probe_audio`
PROBE_SECONDS = 1.0
#: the shortest audio an analysis reads: one frame of the shared STFT
#: (:data:`mir.intermediates.N_FFT` = 2048 samples at 44.1 kHz, 46 ms). A shorter file
#: holds nothing any family can measure: it is rejected before it becomes a track (the
#: families give the values a longer but still short file does not hold as undefined)
SHORTEST_ANALYSIS_S = 2048 / 44100


def check_duration(path: str | os.PathLike, n_samples: int, sr: int) -> None:
    """Raise :class:`AudioError` naming `path` when `n_samples` at `sr` Hz are shorter
    than :data:`SHORTEST_ANALYSIS_S`."""
    if n_samples < SHORTEST_ANALYSIS_S * sr:
        raise AudioError(
            path,
            f"too short to analyse: {n_samples} samples at {sr} Hz "
            f"({1000 * n_samples / sr:.1f} ms); the shortest analysis reads "
            f"{1000 * SHORTEST_ANALYSIS_S:.0f} ms (one 2048-sample frame at 44.1 kHz)",
        )


def _check_file(path: Path) -> str:
    if not path.exists():
        raise AudioError(path, "file does not exist")
    if not path.is_file():
        raise AudioError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)")
    ext = extension(path)
    if ext not in AUDIO_EXTENSIONS:
        raise AudioError(
            path, f"unsupported extension .{ext}; supported: {sorted(AUDIO_EXTENSIONS)}"
        )
    return ext


def probe_audio(path: str | os.PathLike) -> float:
    """Check, cheaply, that a file will decode: its header, and a read of
    :data:`PROBE_SECONDS` of frames at its start, middle and end (the end read finds a
    truncated file). Returns its duration in seconds.

    m4a and aac have no cheap path (their decoder reads the whole file) and are decoded.

    Parameters
    ----------
    path : path-like
        An audio file.

    Returns
    -------
    float
        Duration in seconds, ≥ :data:`SHORTEST_ANALYSIS_S` (46 ms); from the header (an
        estimate for mp3 and ogg).

    Raises
    ------
    AudioError
        Naming the file and what is wrong with it (shorter than
        :data:`SHORTEST_ANALYSIS_S` among the rest).
    """
    path = Path(path)
    ext = _check_file(path)
    if ext in ESSENTIA_EXTENSIONS:
        return load_audio(path).duration_s  # its duration checked there
    try:
        with sf.SoundFile(str(path)) as f:
            frames, sr = f.frames, f.samplerate
            if frames <= 0 or sr <= 0:
                raise AudioError(path, "the header announces no audio frames")
            check_duration(path, frames, sr)
            chunk = max(1, int(PROBE_SECONDS * sr))
            got = 0
            for start in sorted({0, max(0, frames // 2 - chunk // 2), max(0, frames - chunk)}):
                f.seek(start)
                data = f.read(min(chunk, frames - start), dtype="float32", always_2d=True)
                if not np.all(np.isfinite(data)):
                    raise AudioError(path, "decoded samples contain NaN or infinity")
                got = start + data.shape[0]
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(path, f"not a readable audio file ({exc})") from None
    if got == 0:
        raise AudioError(path, "no audio samples could be decoded")
    # mp3/ogg headers only estimate their length; the others announce it exactly
    if ext not in ("mp3", "ogg") and got < frames:
        raise AudioError(
            path, f"truncated: the header announces {frames} frames, only {got} decode"
        )
    return frames / sr


def _load_with_soundfile(path: Path) -> tuple[np.ndarray, int]:
    try:
        with sf.SoundFile(str(path)) as f:
            expected = f.frames
            sr = f.samplerate
            data = f.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(path, f"not a readable audio file ({exc})") from None
    # libsndfile stops quietly at a truncated stream; the header tells how long it
    # should be (FLAC STREAMINFO, WAV data chunk). mp3/ogg headers only estimate.
    if extension(path) not in ("mp3", "ogg") and 0 < expected and data.shape[0] < expected:
        raise AudioError(
            path, f"truncated: the header announces {expected} frames, only {data.shape[0]} decode"
        )
    return data, sr


def _load_with_essentia(path: Path) -> tuple[np.ndarray, int]:
    import essentia

    essentia.log.infoActive = False
    essentia.log.warningActive = False
    import essentia.standard as es

    try:
        audio, sr, channels, *_ = es.AudioLoader(filename=str(path))()
    except RuntimeError as exc:
        raise AudioError(path, f"not a readable audio file ({exc})") from None
    audio = np.asarray(audio, dtype=np.float32)
    if channels == 1:
        audio = audio[:, :1]
    return audio, int(sr)


def write_audio(path: str | os.PathLike, samples: np.ndarray, sr: int) -> Path:
    """Write audio with soundfile (format from the extension), creating its folder.

    Parameters
    ----------
    path : path-like
        The file to write (`.wav`, `.flac`, `.ogg`, ...): the extension picks the format.
    samples : np.ndarray
        Shape (n,) or (n, channels), full scale -1 .. 1 (an integer format holds no more).
    sr : int
        Sample rate in Hz (> 0).

    Returns
    -------
    Path
        `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, sr)
    return path

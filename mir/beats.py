"""Beat and downbeat tracking, and the statistics of a beat grid.

madmom: one network per track. The downbeat RNN's two activation columns (beat,
downbeat) are decoded jointly by a bar-pointer DBN over the configured bar lengths
(3/4 and 4/4), which yields the beats *and* their position in the bar; the sum of
the two columns is the beat activation the rest of the pipeline (tempo, time series)
reuses. The original ran a second, beat-only network for the same beats.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from mir.errors import AudioError

#: madmom's networks are trained on 44.1 kHz input
MADMOM_SR = 44100

_processors: dict = {}
_processors_lock = threading.Lock()


@dataclass
class BeatGrid:
    """Beats and downbeats of a track.

    Attributes
    ----------
    beats : np.ndarray
        Beat times in seconds, ascending.
    downbeats : np.ndarray
        Bar starts in seconds (a subset of `beats`); empty if the tracker has none.
    positions : np.ndarray
        Position of each beat in its bar (1 = downbeat); zeros if unknown.
    activation : np.ndarray
        Beat activation at `fps` frames per second (empty for librosa).
    tracker : str
        "madmom" or "librosa".
    """

    beats: np.ndarray
    downbeats: np.ndarray
    positions: np.ndarray
    activation: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fps: int = 100
    tracker: str = "madmom"
    #: downbeat activation at `fps` (madmom only)
    downbeat_activation: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def beats_per_bar(self) -> int:
        """The longest bar in beats that the tracker chose (0 if unknown)."""
        if self.positions.size == 0:
            return 0
        return int(self.positions.max())


def _processor(name: str, factory):
    with _processors_lock:
        if name not in _processors:
            _processors[name] = factory()
        return _processors[name]


def track_beats(
    y: np.ndarray,
    *,
    sr: int,
    tracker: str = "madmom",
    beats_per_bar: tuple[int, ...] = (3, 4),
    min_bpm: float = 55.0,
    max_bpm: float = 215.0,
    fps: int = 100,
) -> BeatGrid:
    """Track beats and downbeats of a mono signal.

    Parameters
    ----------
    y : np.ndarray, 1-d
        Mono audio. madmom needs 44.1 kHz (resample first); librosa takes any rate.
    sr : int
        Sample rate of `y` in Hz.
    tracker : {"madmom", "librosa"}
        librosa finds no downbeats.
    beats_per_bar : tuple of int
        Bar lengths the DBN may choose between.
    min_bpm, max_bpm : float
        Tempo range searched, in BPM.

    Returns
    -------
    BeatGrid
    """
    if y.ndim != 1:
        raise ValueError("track_beats expects mono audio (1-d)")
    if y.size < sr // 2:
        raise AudioError("<signal>", "too short for beat tracking (< 0.5 s)")
    if tracker == "librosa":
        return _track_librosa(y, sr=sr, min_bpm=min_bpm, max_bpm=max_bpm)
    if tracker != "madmom":
        raise ValueError(f"unknown beat tracker {tracker!r}")
    if sr != MADMOM_SR:
        raise ValueError(f"madmom needs {MADMOM_SR} Hz input, got {sr}")
    from mir._madmom import import_madmom

    madmom = import_madmom()
    from madmom.audio.signal import Signal

    rnn = _processor("rnn_downbeat", madmom.features.downbeats.RNNDownBeatProcessor)
    dbn = _processor(
        ("dbn", tuple(beats_per_bar), min_bpm, max_bpm, fps),
        lambda: madmom.features.downbeats.DBNDownBeatTrackingProcessor(
            beats_per_bar=list(beats_per_bar), min_bpm=min_bpm, max_bpm=max_bpm, fps=fps
        ),
    )
    act = rnn(Signal(y.astype(np.float32), sample_rate=sr, num_channels=1))
    if np.max(act) < 1e-3:  # silence: the DBN would invent a grid
        empty = np.zeros(0)
        return BeatGrid(empty, empty, empty, act.sum(axis=1), fps, "madmom")
    # the DBN is not thread-safe (it keeps state between calls)
    with _processors_lock:
        result = dbn(act)
    result = np.asarray(result, dtype=float).reshape(-1, 2)
    beats, positions = result[:, 0], result[:, 1].astype(int)
    return BeatGrid(
        beats=beats,
        downbeats=beats[positions == 1],
        positions=positions,
        activation=act.sum(axis=1),
        fps=fps,
        tracker="madmom",
        downbeat_activation=act[:, 1],
    )


def _track_librosa(y: np.ndarray, *, sr: int, min_bpm: float, max_bpm: float) -> BeatGrid:
    import librosa

    _, beats = librosa.beat.beat_track(y=y, sr=sr, units="time", start_bpm=120.0)
    beats = np.asarray(beats, dtype=float)
    beats = beats[(beats >= 0)]
    return BeatGrid(
        beats=beats,
        downbeats=np.zeros(0),
        positions=np.zeros(beats.size, dtype=int),
        tracker="librosa",
    )


def _stable_segments(ibis: np.ndarray) -> list[np.ndarray]:
    """Runs of inter-beat intervals whose consecutive differences are <= 50 ms."""
    segments, start = [], 0
    for i in range(1, ibis.size + 1):
        if i == ibis.size or abs(ibis[i] - ibis[i - 1]) > 0.05:
            segments.append(ibis[start:i])
            start = i
    return segments


def beat_statistics(beats: np.ndarray, *, duration_s: float | None = None) -> dict[str, float]:
    """Tempo statistics of a beat grid, as the original pipeline defines them.

    Returns
    -------
    dict
        `bpm` (60 / mean inter-beat interval when the tempo is defined, else 120),
        `beat_count`, `beat_regularity` (std of inter-beat intervals in s, 1.0 when
        undefined, clamped to [0, 1]) and `bpm_is_defined` (0 or 1): at least 15 beats,
        a tempo of 40-300 BPM and an IBI std <= 0.15 s; or stable segments (>= 4 beats,
        consecutive IBIs within 50 ms, std <= 0.15 s) covering >= 10 % of the track
        (a >= 30-beat segment when the duration is unknown).
    """
    beats = np.asarray(beats, dtype=float)
    count = int(beats.size)
    if count < 2:
        return {"bpm": 120.0, "beat_count": count, "beat_regularity": 1.0, "bpm_is_defined": 0}
    ibis = np.diff(beats)
    mean_ibi = float(ibis.mean())
    bpm = 60.0 / mean_ibi if mean_ibi > 0 else 0.0
    std = float(ibis.std())
    defined = count >= 15 and 40.0 <= bpm <= 300.0 and std <= 0.15
    if not defined:
        for seg in _stable_segments(ibis):
            if seg.size + 1 < 4 or seg.std() > 0.15:
                continue
            if duration_s:
                if seg.sum() >= 0.1 * duration_s:
                    defined = True
            elif seg.size + 1 >= 30:
                defined = True
            if defined:
                break
    return {
        "bpm": round(bpm, 2) if defined else 120.0,
        "beat_count": count,
        "beat_regularity": round(min(max(std, 0.0), 1.0), 4),
        "bpm_is_defined": int(defined),
    }

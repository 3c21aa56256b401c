"""Latent windows: every second of a track in windows of T latent frames, on downbeats.

A window is `n_frames` latent frames of `samples_per_frame` samples (at the autoencoder's
rate), T a multiple of 256 (:mod:`mir.latents.presets`). The plan:

1. the first window starts at the track's start (a downbeat later than 0 would leave the
   pickup out);
2. each next window starts at the last downbeat at or before the previous window's end
   (after its start), so windows overlap by less than a bar and every bar starts a window
   on its downbeat; without a downbeat there, at the previous end;
3. the window that would run past the end is anchored at the track's end instead (it
   ends with the last sample, overlapping its predecessor more);
4. a track shorter than one window is one window, padded with silence: its
   `padding_mask` marks the latent frames that hold audio.

So the union of the windows is the whole track (coverage 1.0: :func:`coverage`), and the
cost is linear in the number of downbeats. `boundaries` (section starts, in seconds) is the
hook for section-aware windows: where a boundary lies in the reach of the next start, it
is taken before a downbeat.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: the columns of the windows manifest
MANIFEST_COLUMNS = (
    "track_folder",
    "track",
    "window",
    "start_s",
    "end_s",
    "duration_s",
    "start_sample",
    "end_sample",
    "frames",
    "valid_frames",
)


@dataclass(frozen=True)
class Window:
    """One window of a track, in samples at `sample_rate` (end exclusive).

    `end - start` is always `n_frames * samples_per_frame`; `valid` of those samples are
    audio (fewer only in the padded window of a short track)."""

    index: int
    start: int
    end: int
    valid: int
    sample_rate: int
    n_frames: int
    samples_per_frame: int

    @property
    def start_s(self) -> float:
        return self.start / self.sample_rate

    @property
    def end_s(self) -> float:
        """The end of the audio in the window, in seconds."""
        return (self.start + self.valid) / self.sample_rate

    @property
    def duration_s(self) -> float:
        """Seconds of audio in the window."""
        return self.valid / self.sample_rate

    @property
    def frame_s(self) -> float:
        return self.samples_per_frame / self.sample_rate

    @property
    def valid_frames(self) -> int:
        """Latent frames that start inside the audio."""
        return min(self.n_frames, -(-self.valid // self.samples_per_frame))

    def padding_mask(self) -> list[int]:
        """1 for each latent frame that holds audio, 0 for padding (length `n_frames`)."""
        return [1] * self.valid_frames + [0] * (self.n_frames - self.valid_frames)


def plan_windows(
    n_samples: int,
    *,
    sample_rate: int,
    n_frames: int,
    samples_per_frame: int,
    downbeats_s: Sequence[float] | np.ndarray = (),
    boundaries_s: Sequence[float] | np.ndarray | None = None,
) -> list[Window]:
    """The windows of a track of `n_samples` samples (see the module docstring).

    Parameters
    ----------
    n_samples : int
        The track's length in samples at `sample_rate` (> 0).
    sample_rate : int
        The autoencoder's rate, Hz.
    n_frames, samples_per_frame : int
        The window length in latent frames, and samples per frame.
    downbeats_s : sequence of float
        Downbeat times in seconds (any order; outside the track ignored).
    boundaries_s : sequence of float, optional
        Section starts in seconds, preferred over downbeats as window starts.

    Returns
    -------
    list of Window
        In time order, indices 0..n-1.
    """
    if n_samples <= 0:
        raise ValueError("a track without samples has no windows")
    length = n_frames * samples_per_frame

    def samples(times) -> np.ndarray:
        t = np.round(np.asarray(times if times is not None else [], float) * sample_rate)
        return np.unique(t[(t > 0) & (t < n_samples)].astype(np.int64))

    bars, sections = samples(downbeats_s), samples(boundaries_s)

    def last_in(points: np.ndarray, lo: int, hi: int) -> int | None:
        """The last point p with lo < p <= hi."""
        i = int(np.searchsorted(points, hi, "right")) - 1
        return int(points[i]) if i >= 0 and points[i] > lo else None

    def window(index: int, start: int) -> Window:
        valid = min(length, n_samples - start)
        return Window(index, start, start + length, valid, sample_rate, n_frames, samples_per_frame)

    if n_samples <= length:
        return [window(0, 0)]
    starts = [0]
    while starts[-1] + length < n_samples:
        prev, prev_end = starts[-1], starts[-1] + length
        nxt = last_in(sections, prev, prev_end)
        if nxt is None:
            nxt = last_in(bars, prev, prev_end)
        if nxt is None:
            nxt = prev_end
        if nxt + length >= n_samples:
            nxt = n_samples - length  # the last window ends with the track
        starts.append(nxt)
    return [window(i, s) for i, s in enumerate(starts)]


def coverage(windows: Iterable[Window], n_samples: int) -> float:
    """Seconds of audio inside some window / seconds of audio (1.0: every second)."""
    spans = sorted((w.start, min(w.start + w.valid, n_samples)) for w in windows)
    covered, reach = 0, 0
    for lo, hi in spans:
        lo = max(lo, reach)
        if hi > lo:
            covered += hi - lo
            reach = hi
    return covered / n_samples if n_samples else 0.0


def manifest_rows(windows: Iterable[Window], *, track_folder: str, track: str) -> list[dict]:
    """One row per window with the :data:`MANIFEST_COLUMNS` (seconds rounded to 1 µs)."""
    return [
        {
            "track_folder": track_folder,
            "track": track,
            "window": w.index,
            "start_s": round(w.start_s, 6),
            "end_s": round(w.end_s, 6),
            "duration_s": round(w.duration_s, 6),
            "start_sample": w.start,
            "end_sample": w.start + w.valid,
            "frames": w.n_frames,
            "valid_frames": w.valid_frames,
        }
        for w in windows
    ]


def write_manifest(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    """Write manifest rows as CSV (a header, then one line per window), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """The rows of a manifest written by :func:`write_manifest` (values as strings)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))

"""Training crops: beat-aligned (or sequential) excerpts of a track and its stems.

The original pipeline's algorithm (spec section 8): crops of `length` samples that start
on a downbeat after the leading silence, end on a downbeat (a multiple of 4 bars with
`div4`), snap to zero crossings, fade in and out over 10 ms, and are never shorter than
75 % of the length. Unlike the original, silent crops are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_FRACTION = 0.75
FADE_S = 0.010
ZC_WINDOW_S = 0.050


@dataclass(frozen=True)
class Crop:
    """One crop, in samples of the source (end exclusive) and seconds."""

    index: int
    start: int
    end: int
    sr: int
    downbeats: int

    @property
    def start_time(self) -> float:
        return self.start / self.sr

    @property
    def end_time(self) -> float:
        return self.end / self.sr

    @property
    def samples(self) -> int:
        return self.end - self.start


def leading_silence(
    y: np.ndarray, *, sr: int, threshold_dbfs: float = -72.0, max_scan_s: float = 30.0
) -> int:
    """First sample of the first 100 ms window whose peak exceeds `threshold_dbfs` (0 if none)."""
    window = int(0.1 * sr)
    threshold = 10 ** (threshold_dbfs / 20)
    limit = min(y.size, int(max_scan_s * sr))
    for start in range(0, limit, window):
        if np.abs(y[start : start + window]).max(initial=0.0) > threshold:
            return start
    return 0


def _zero_crossing_before(y: np.ndarray, pos: int, lo: int) -> int:
    """The last zero crossing in [lo, pos], or `pos` if there is none."""
    lo = max(lo, 1)
    if pos <= lo:
        return pos
    seg = y[lo - 1 : pos + 1]
    crossings = np.flatnonzero(np.signbit(seg[:-1]) != np.signbit(seg[1:]))
    return lo + int(crossings[-1]) if crossings.size else pos


def plan_crops(
    y: np.ndarray,
    *,
    sr: int,
    length: int,
    beats: np.ndarray,
    downbeats: np.ndarray,
    mode: str = "beat-aligned",
    div4: bool = True,
    overlap: bool = False,
) -> list[Crop]:
    """Where the crops of a track lie.

    Parameters
    ----------
    y : np.ndarray, 1-d
        Mono signal used for the silence offset and zero crossings.
    length : int
        Target crop length in samples (524288 ≈ 11.9 s at 44.1 kHz).
    beats, downbeats : np.ndarray
        Beat and bar times in seconds; with fewer than 2 downbeats, every 4th beat is a bar.
    mode : {"beat-aligned", "sequential"}
        Without any beats, beat-aligned falls back to sequential.
    """
    n = y.size
    min_len = int(MIN_FRACTION * length)
    offset = leading_silence(y, sr=sr)
    grid = np.asarray(downbeats, float) if len(downbeats) >= 2 else np.asarray(beats, float)[::4]
    crops: list[Crop] = []
    if mode == "sequential" or grid.size < 2:
        start = offset
        while start + sr < n:
            end = min(start + length, n)
            if end - start < min_len:
                break
            crops.append(Crop(len(crops), start, end, sr, 0))
            start = end
        return crops
    bars = np.round(grid * sr).astype(np.int64)
    bars = np.sort(bars[(bars >= 0) & (bars < n)])

    def n_between(lo: int, hi: int) -> int:
        """Bars in [lo, hi] (the bars are sorted: two binary searches, not a scan)."""
        return int(np.searchsorted(bars, hi, "right") - np.searchsorted(bars, lo, "left"))

    start = int(bars[np.argmin(np.abs(bars - offset))])
    first = True
    slack = int(ZC_WINDOW_S * sr)  # what the zero-crossing snaps may take off a crop
    nominal = start  # lengths are measured from downbeats, not from snapped positions
    while start + sr < n:
        if not first:
            start = _zero_crossing_before(y, start, start - slack)
        target = min(nominal + length, n)
        inside = bars[
            np.searchsorted(bars, nominal, "right") : np.searchsorted(bars, target, "right")
        ]
        end = target
        chosen = False
        if div4:
            for candidate in inside[::-1]:
                # whole bars between two downbeats: 4, 8, 12 ...
                n_bars = n_between(nominal, candidate) - 1
                if n_bars >= 4 and n_bars % 4 == 0 and candidate - nominal >= min_len:
                    end, chosen = int(candidate), True
                    break
        if not chosen and inside.size and inside[-1] - nominal >= min_len:
            end = int(inside[-1])
        end_nominal = end
        end = _zero_crossing_before(y, end, max(start + int(0.1 * sr), end - slack))
        if end - start < min_len - 2 * slack:
            break
        crops.append(Crop(len(crops), start, end, sr, n_between(start, end_nominal)))
        first = False
        if overlap:
            half = nominal + length // 2
            # the bar after `nominal` nearest `half` (the first of two equally near)
            lo = int(np.searchsorted(bars, nominal, "right"))
            k = int(np.searchsorted(bars, half))
            near = [j for j in (k - 1, k) if lo <= j < bars.size]
            nearest = half
            if near:
                nearest = int(bars[min(near, key=lambda j: (abs(int(bars[j]) - half), j))])
            start = nominal = nearest if nearest > nominal else half
        else:
            start, nominal = end, end_nominal
    return crops


def cut(samples: np.ndarray, crop: Crop) -> np.ndarray:
    """The crop's samples with 10 ms linear fades at both ends (a copy)."""
    out = np.array(samples[crop.start : crop.end], dtype=np.float32, copy=True)
    fade = min(int(FADE_S * crop.sr), out.shape[0] // 2)
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        ramp = ramp[:, None] if out.ndim == 2 else ramp
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def is_silent(samples: np.ndarray, *, threshold_dbfs: float = -60.0) -> bool:
    """True when the crop's RMS lies below `threshold_dbfs` (nothing to learn from)."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return rms <= 10 ** (threshold_dbfs / 20)


def times_within(times: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """The sorted `times` in [start_s, end_s), found by binary search (no scan per crop)."""
    return times[np.searchsorted(times, start_s, "left") : np.searchsorted(times, end_s, "left")]


def local_tempo(beats: np.ndarray, crop: Crop) -> tuple[float, int]:
    """(BPM from the mean inter-beat interval of the beats inside the crop, their count)."""
    inside = times_within(beats, crop.start_time, crop.end_time)
    if inside.size < 2:
        return 0.0, int(inside.size)
    return round(60.0 / float(np.mean(np.diff(inside))), 1), int(inside.size)

"""Resampling a track's series to the frames of a latent window.

A whole-track series (:func:`mir.dataset.timeseries.track_timeseries`) holds each field at
its own rate (`field_rates`, frames per second). A latent window is `n_frames` frames of
`frame_s` seconds from `start_s`; each field is pooled to those frames by its rule:

- ``mean``: the mean of the source frames the latent frame covers (continuous fields);
- ``voiced_mean``: for an f0 field, the mean over the covered frames that are voiced (its
  `_voiced_ts` partner > 0.5), 0 where none is; the partner pools by ``mean``, the voiced
  share of the frame;
- ``mode``: the most common value of the covered frames (categorical: the chord index; a
  tie goes to the smaller value);
- ``slice``: the source frame under the latent frame's centre (slow fields such as the
  tonic, held at their own rate rather than averaged).

A latent frame covers source frames `floor(a * rate)` to `ceil(b * rate)` (exclusive) of its
span `[a, b)` in seconds, at least the one it starts in, so a field slower than the latents
is held and a faster one averaged. Frames past the end of the track (the padding of a
short window) are 0 in every field and 0 in the padding mask. Cost: one cumulative sum per
field and track, then O(frames) per window.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

RULES = ("mean", "voiced_mean", "mode", "slice")
VOICED_SUFFIX = "_voiced_ts"
_F0 = re.compile(r"^f0_(?P<stem>\w+?)_ts$")
#: fields pooled by another rule than ``mean``
SPECIAL_RULES = {
    "chords_idx_ts": "mode",
    "tonic_ts": "slice",
    "tonic_strength_ts": "slice",
    # the section under the frame's centre, and its place there (an index is not averaged)
    "section_idx_ts": "slice",
    "section_position_ts": "slice",
}


def field_rule(name: str) -> str:
    """The pooling rule of a series field, from its name (see the module docstring)."""
    if name in SPECIAL_RULES:
        return SPECIAL_RULES[name]
    if _F0.match(name) and not name.endswith(VOICED_SUFFIX):
        return "voiced_mean"
    return "mean"


def voiced_partner(name: str) -> str:
    """`f0_bass_ts` -> `f0_bass_voiced_ts`."""
    return name[: -len("_ts")] + VOICED_SUFFIX


def frame_spans(
    start_s: float, frame_s: float, n_frames: int, rate: float, n_source: int
) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi): the source frames `[lo, hi)` each latent frame covers, clipped to the
    source; `lo == hi` for latent frames past its end."""
    edges = start_s + frame_s * np.arange(n_frames + 1, dtype=np.float64)
    lo = np.floor(edges[:-1] * rate + 1e-9).astype(np.int64)
    hi = np.ceil(edges[1:] * rate - 1e-9).astype(np.int64)
    hi = np.maximum(hi, lo + 1)
    return np.clip(lo, 0, n_source), np.clip(hi, 0, n_source)


class TrackSeries:
    """A track's series prepared for pooling into many windows: the cumulative sums of the
    ``mean`` and ``voiced_mean`` fields are taken once.

    Parameters
    ----------
    series : mapping of name -> np.ndarray
        Each field, frames along axis 0 (a trailing axis for vectors: HPCP's 12 bins).
    field_rates : mapping of name -> float
        Frames per second of each field.
    """

    def __init__(self, series: Mapping[str, np.ndarray], field_rates: Mapping[str, float]):
        missing = sorted(set(series) - set(field_rates))
        if missing:
            raise ValueError(f"no rate for field(s) {missing}")
        self.series = {k: np.asarray(v) for k, v in series.items()}
        self.rates = {k: float(field_rates[k]) for k in series}
        self._sums: dict[str, np.ndarray] = {}
        for name, values in self.series.items():
            rule = field_rule(name)
            if rule == "mean":
                self._sums[name] = _cumsum(values.astype(np.float64))
            elif rule == "voiced_mean":
                partner = voiced_partner(name)
                if partner not in self.series:
                    raise ValueError(f"{name} needs its voiced series {partner}")
                voiced = (self.series[partner] > 0.5).astype(np.float64)
                self._sums[name] = _cumsum(values.astype(np.float64) * voiced)
                self._sums[name + "#count"] = _cumsum(voiced)

    def pool(self, start_s: float, frame_s: float, n_frames: int) -> dict[str, np.ndarray]:
        """Every field pooled to the `n_frames` latent frames of `frame_s` seconds from
        `start_s`, as float32 arrays of shape (n_frames, ...)."""
        out: dict[str, np.ndarray] = {}
        for name, values in self.series.items():
            n = values.shape[0]
            lo, hi = frame_spans(start_s, frame_s, n_frames, self.rates[name], n)
            inside = hi > lo
            rule = field_rule(name)
            shape = (n_frames, *values.shape[1:])
            if rule == "mean":
                s = self._sums[name]
                counts = np.maximum(hi - lo, 1).reshape(-1, *([1] * (values.ndim - 1)))
                pooled = (s[hi] - s[lo]) / counts
            elif rule == "voiced_mean":
                s, c = self._sums[name], self._sums[name + "#count"]
                voiced = c[hi] - c[lo]
                pooled = np.divide(s[hi] - s[lo], voiced, out=np.zeros(shape), where=voiced > 0)
            elif rule == "mode":
                pooled = np.zeros(shape)
                for i in np.flatnonzero(inside):
                    part = values[lo[i] : hi[i]].astype(np.int64)
                    pooled[i] = np.bincount(part - part.min()).argmax() + part.min()
            else:  # slice
                centres = start_s + frame_s * (np.arange(n_frames) + 0.5)
                index = np.clip(np.floor(centres * self.rates[name]).astype(np.int64), 0, n - 1)
                pooled = values[index].astype(np.float64)
                pooled[centres * self.rates[name] >= n] = 0
            pooled = np.where(inside.reshape(-1, *([1] * (values.ndim - 1))), pooled, 0)
            out[name] = np.nan_to_num(pooled).astype(np.float32)
        return out


def _cumsum(values: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])


def padding_mask(start_s: float, frame_s: float, n_frames: int, duration_s: float) -> np.ndarray:
    """1 for the latent frames that start before the end of the audio, 0 for padding (as
    stable-audio-tools' nearest-neighbour reduction of a sample mask gives)."""
    starts = start_s + frame_s * np.arange(n_frames)
    return (starts < duration_s - 1e-9).astype(np.int8)


def pool_window(
    series: Mapping[str, np.ndarray],
    field_rates: Mapping[str, float],
    *,
    start_s: float,
    frame_s: float,
    n_frames: int,
) -> dict[str, np.ndarray]:
    """Every field of a track's `series` pooled to one latent window: `n_frames` frames of
    `frame_s` seconds from `start_s` (see :class:`TrackSeries` to pool many windows of one
    track).

    Examples
    --------
    >>> pooled = pool_window({"x_ts": np.arange(10.0)}, {"x_ts": 10}, start_s=0.0,
    ...                      frame_s=0.5, n_frames=2)
    >>> pooled["x_ts"].tolist()
    [2.0, 7.0]
    """
    return TrackSeries(series, field_rates).pool(start_s, frame_s, n_frames)

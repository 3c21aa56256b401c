"""What every separation backend shares: the result, block-wise processing of long
tracks, and the post-processing of the stems (extra stems folded into `other`, the
near-silent check, the instrumental).

Long tracks are separated in blocks with a crossfade, so memory stays bounded by the
block, not the track.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mir.feature_table import STEMS as STEM_NAMES


@dataclass
class Separation:
    """Stems of one track.

    Attributes
    ----------
    stems : dict of name -> np.ndarray (n_samples, 2) float32
    sr : int
        Sample rate of the stems, in Hz.
    peak_normalized : bool
        True when each stem was scaled to a fixed peak (BS-RoFormer), so its loudness is
        not comparable with the mix.
    flagged : list of str
        Stems found near-silent and mixed into `other`.
    """

    stems: dict[str, np.ndarray]
    sr: int
    peak_normalized: bool = False
    flagged: list[str] = field(default_factory=list)
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def process_in_blocks(run: Callable, wav, *, n_sources: int, block: int, fade: int) -> np.ndarray:
    """Apply `run` to overlapping blocks of `wav` (channels, n) and crossfade the results.

    Returns an array (n_sources, channels, n) assembled block by block, so only one block
    of intermediate tensors is alive at a time.
    """
    channels, n = wav.shape
    out = np.zeros((n_sources, channels, n), dtype=np.float32)
    if n <= block + fade:
        out[:] = run(wav)
        return out
    start = 0
    while start < n:
        end = min(n, start + block + fade)
        piece = run(wav[:, start:end])
        length = end - start
        weight = np.ones(length, dtype=np.float32)
        if start > 0:
            weight[:fade] = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        if end < n:
            weight[-fade:] = np.linspace(1.0, 0.0, fade, dtype=np.float32)
        out[:, :, start:end] += piece * weight
        if end == n:
            break
        start = end - fade
    return out


# -- post-processing --------------------------------------------------------------------


def _stereo(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] == 1:
        return np.repeat(x, 2, axis=1)
    return x[:, :2]


def fold_extra_stems(separation: Separation, *, keep: bool = False) -> dict[str, np.ndarray]:
    """Sum stems beyond drums/bass/other/vocals (piano, guitar) into `other`.

    Returns the extra stems themselves (for saving when `keep` is set)."""
    extra = {k: v for k, v in separation.stems.items() if k not in STEM_NAMES}
    for name, stem in extra.items():
        if "other" in separation.stems:
            separation.stems["other"] = separation.stems["other"] + stem
        else:
            separation.stems["other"] = stem.copy()
        if not keep:
            del separation.stems[name]
    return extra


def near_silent(stem: np.ndarray, *, rms_dbfs: float = -39.0, peak_dbfs: float = -20.0) -> bool:
    """A stem whose RMS and peak both lie below the thresholds (the spec's quality check)."""
    peak = float(np.abs(stem).max()) if stem.size else 0.0
    rms = float(np.sqrt(np.mean(stem.astype(np.float64) ** 2))) if stem.size else 0.0
    to_db = lambda v: 20 * np.log10(v) if v > 0 else -np.inf  # noqa: E731
    return to_db(rms) < rms_dbfs and to_db(peak) < peak_dbfs


def quality_check(
    separation: Separation, *, rms_dbfs: float = -39.0, peak_dbfs: float = -20.0
) -> list[str]:
    """Flag near-silent stems, mix each into `other` and replace it with silence."""
    flagged = []
    for name in ("drums", "bass", "vocals"):
        stem = separation.stems.get(name)
        if stem is not None and near_silent(stem, rms_dbfs=rms_dbfs, peak_dbfs=peak_dbfs):
            separation.stems["other"] = separation.stems["other"] + stem
            separation.stems[name] = np.zeros(stem.shape, dtype=np.float32)
            flagged.append(name)
    separation.flagged = flagged
    return flagged


def instrumental(separation: Separation, mix: np.ndarray | None = None) -> np.ndarray:
    """The mix without vocals: mix - vocals when the mix is given (and the stems are
    level-consistent), else the sum of the other stems."""
    if mix is not None and not separation.peak_normalized:
        n = min(mix.shape[0], separation.stems["vocals"].shape[0])
        return (_stereo(mix)[:n] - separation.stems["vocals"][:n]).astype(np.float32)
    return sum(v for k, v in separation.stems.items() if k != "vocals").astype(np.float32)

"""Source separation: a mix into drums, bass, other and vocals.

Backends load their weights from local folders only (never a download): Demucs from a
model repository in Demucs's own layout (:mod:`mir.separation.demucs`), BS-RoFormer with
audio-separator's model, vendored (:mod:`mir.separation.roformer`). What they share (the
result, block-wise processing, post-processing) is in :mod:`mir.separation.core`, the
writing of stems in :mod:`mir.separation.files`; this module chooses the backend by
configuration.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mir.separation.core import Separation, fold_extra_stems, quality_check
from mir.separation.demucs import load_demucs, require_demucs, separate_demucs
from mir.separation.roformer import check_roformer, load_roformer, separate_roformer


def check_model(cfg) -> None:
    """Raise :class:`ModelNotFound` unless the configured separation model is in place.

    `cfg` is the `separation` section of the configuration.
    """
    if cfg.backend == "demucs":
        require_demucs(cfg.demucs.model, cfg.demucs.repo)
    else:
        check_roformer(cfg.bs_roformer)


def model_loader(cfg) -> tuple[tuple, Callable[[], object]]:
    """(cache key, loader) of the configured separation model."""
    if cfg.backend == "demucs":
        key = ("demucs", cfg.demucs.model, str(cfg.demucs.repo))
        return key, lambda: load_demucs(cfg.demucs.model, cfg.demucs.repo)
    key = ("bs_roformer", cfg.bs_roformer.model_file, str(cfg.bs_roformer.model_dir))
    return key, lambda: load_roformer(cfg.bs_roformer)


def separate(model, samples: np.ndarray, sr: int, cfg, *, device: str = "cpu") -> Separation:
    """Separate with the configured backend, fold extra stems and run the quality check."""
    if cfg.backend == "demucs":
        result = separate_demucs(
            model,
            samples,
            sr,
            device=device,
            shifts=cfg.demucs.shifts,
            overlap=cfg.demucs.overlap,
            block_s=cfg.block_seconds,
        )
    else:
        result = separate_roformer(
            model, samples, sr, cfg.bs_roformer, device=device, block_s=cfg.block_seconds
        )
    result.extra = fold_extra_stems(result, keep=cfg.keep_extra_stems)
    if cfg.quality_check:
        quality_check(result, rms_dbfs=cfg.quality_rms_dbfs, peak_dbfs=cfg.quality_peak_dbfs)
    return result

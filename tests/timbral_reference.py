"""`timbral_models` 0.4.0, the reference our own timbral models are checked against.

The package is vendored in `tests/_vendor/timbral_models` (its PyPI release declares the
retired `sklearn` placeholder package, which refuses to install). It was written for
numpy < 1.20 and librosa < 0.10; the vendored copy calls `np.pad` for the removed
`np.lib.pad` and passes librosa its audio by keyword (see tests/_vendor/README.md).
Nothing else is changed: the values are the package's. Only the tests and the bench
need it.
"""

from __future__ import annotations

import numpy as np


def reference_features(samples: np.ndarray, *, sr: int) -> dict[str, float]:
    """The eight ratings as the package computes them, clamped and rounded as ours.

    `samples` go to the package as they are (shape (n,) or (n, channels)), except that a
    single-channel (n, 1) array is passed as (n,): the package filters a 2-d array along
    its last axis, which for one channel is the wrong one.
    """
    from mir.timbral import TIMBRAL_KEYS
    from tests._vendor import timbral_models as tm

    x = np.asarray(samples)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    out: dict[str, float] = {}
    for key in TIMBRAL_KEYS[:-1]:
        value = float(getattr(tm, f"timbral_{key}")(x, fs=sr))
        out[key] = round(float(np.clip(value, 0.0, 100.0)), 4)
    _, probability = tm.timbral_reverb(x, fs=sr, dev_output=True)
    out["reverberation"] = round(
        float(np.clip(float(np.ravel(probability)[0]) * 100.0, 0.0, 100.0)), 4
    )
    return out

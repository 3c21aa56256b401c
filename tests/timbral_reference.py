"""`timbral_models` 0.4.0, the reference our own timbral models are checked against.

The package was written for numpy < 1.20 and librosa < 0.10: it calls `np.lib.pad`
(removed from numpy) and librosa functions with positional audio arguments (librosa
made them keyword-only). Rather than patch numpy or librosa for the whole process,
:func:`timbral_models` hands the package's own modules a small `librosa` stand-in that
forwards each call with keywords, and gives `np.lib` back its `pad` alias. Nothing else
is changed: the values are the package's. Only the tests and the bench need it.
"""

from __future__ import annotations

import threading
import types

import numpy as np

_lock = threading.Lock()
_module = None


def _librosa_compat():
    import librosa

    onset = types.SimpleNamespace(
        onset_strength=lambda y, sr=22050, **kw: librosa.onset.onset_strength(y=y, sr=sr, **kw),
        onset_detect=lambda y=None, sr=22050, **kw: librosa.onset.onset_detect(y=y, sr=sr, **kw),
    )
    core = types.SimpleNamespace(
        stft=lambda y, **kw: librosa.stft(y, **kw),
        istft=lambda d, **kw: librosa.istft(d, **kw),
        resample=lambda y, orig_sr, target_sr, **kw: librosa.resample(
            y, orig_sr=orig_sr, target_sr=target_sr, **kw
        ),
    )
    return types.SimpleNamespace(
        onset=onset, core=core, decompose=librosa.decompose, __name__="librosa"
    )


def timbral_models():
    """Import `timbral_models` with the compatibility layer applied (once)."""
    global _module
    with _lock:
        if _module is None:
            if not hasattr(np.lib, "pad"):
                np.lib.pad = np.pad  # removed alias the package calls
            import timbral_models as tm
            from timbral_models import Timbral_Hardness, timbral_util

            compat = _librosa_compat()
            for mod in (timbral_util, Timbral_Hardness):
                mod.librosa = compat
            _module = tm
    return _module


def reference_features(samples: np.ndarray, *, sr: int) -> dict[str, float]:
    """The eight ratings as the package computes them, clamped and rounded as ours.

    `samples` go to the package as they are (shape (n,) or (n, channels)), except that a
    single-channel (n, 1) array is passed as (n,): the package filters a 2-d array along
    its last axis, which for one channel is the wrong one.
    """
    from mir.timbral import TIMBRAL_KEYS

    tm = timbral_models()
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

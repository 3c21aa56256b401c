"""The eight Audio Commons timbral ratings of a sound, vectorised: brightness, depth,
hardness, roughness, warmth, sharpness, booming and reverberation.

The models are those of `timbral_models` 0.4.0 (Andy Pearce, Institute of Sound
Recording, University of Surrey, for the Audio Commons project; Apache License 2.0):
linear (reverberation: logistic) regressions, fitted to listening tests, over
descriptors of the spectrum, the envelope, the onsets and the ISO 532 B loudness of a
sound. The algorithms here follow that package's source step by step - the same
filters, spectrograms, sample-and-hold envelope, onset detection and pruning, loudness
normalisation (pyloudnorm, -24 LUFS), Zwicker loudness, peak picking and regression
coefficients - so the ratings are the package's (tests/test_timbral.py runs both; on
music they agree to the 4th decimal), but its per-sample and per-frame Python loops are
array operations and a track goes through in blocks. The cost grows linearly with the
duration (about 25x realtime on one core, the package about 2x) and the memory stays
bounded (about 6 bytes per sample at the peak, mostly the float32 envelope of onset
detection: under 1 GB for an hour of stereo), so whole tracks are analysed, not
excerpts.

One module per model, each naming the package file it follows (`brightness`,
`depth`, `hardness`, `roughness`, `warmth`, `sharpness`, `booming`, `reverberation`);
the machinery they share (`timbral_util.py` there) in modules of its own: the signal
and its loudness normalisation (`signal`), filters and framing (`filters`), ISO 532 B
specific loudness (`specific_loudness`), the onset spectrogram (`onset_strength`), the
sample-and-hold envelope (`envelope`), onsets (`onsets`), peak picking (`peaks`), and
the passes several models read at once (`passes`). Each function names the package
function it follows. Where this package deliberately differs:

* Super-linear steps of the package are linear here, with the same results. Its onset
  pruning deletes from arrays inside loops over the onsets and re-reads each segment
  up to the next kept onset (quadratic in the onsets); here one backward pass grows
  each segment from the last. Its backwards walk from each detected onset to the start
  of the attack (`return_loop`) can cross the same long quiet passage for every onset
  in it; the walk depends only on where it is, so here every position is walked from
  at most once (memoised). The sample-and-hold envelope, a per-sample recursion there,
  is computed exactly from running maxima and a pointer-doubled chain of hold points.
* Precision: the envelope, the spectra of onset detection, HPSS and hardness's
  bandwidth, and the spectra brightness and depth only take centroids from are float32
  (the package: float64): values differ in the 7th digit, far below what onset
  picking, the soft masks, the -75 dB bandwidth threshold or a centroid resolve. The
  signal itself, its loudness normalisation and its filters are the package's to the
  last bit (a rating can rest on an argmax among values equal to the last digit). The
  RT60 pre-selection's sub-frame variances come from running sums; where two are
  within 1e-5 they are recomputed as the package computes them (`np.var` in the
  input's precision), so that comparison is its own too.
* Where the package fails, this package goes on: an onset whose envelope peaks at its
  first sample is left out of hardness (the package raises); onsets more than 100 ms
  out of order end the spacing pass (the package loops forever); a stereo signal below
  44.1 kHz is resampled per channel for the reverberation model (the package resamples
  along the channel axis).
* Finite or undefined, never NaN: where the package gives NaN, infinity or an error,
  each rating is a number on its scale or :class:`~mir.family.Undefined` with the
  reason. Digital silence (the package: ValueError) and a signal with no 400 ms block
  above -70 LUFS (BS.1770's absolute gate; the package: NaN) leave every rating
  undefined; each model states its own cases in its `rating`. A regression driven to
  -inf by a log of zero power is clamped to 0 as any rating beyond the scale is.

`timbral_of_audio` reads a decoded :class:`~mir.audio.Audio` as the package would read
its samples - the channels summed (the first three), at the track's rate, resampled to
44.1 kHz only below it - and keeps what it derives on the track (`audio.cached`, keys
"timbral_..."). Ratings are clamped to 0-100 and rounded to 4 decimals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mir.family import Undefined
from mir.timbral import (
    booming,
    brightness,
    depth,
    hardness,
    reverberation,
    roughness,
    sharpness,
    warmth,
)
from mir.timbral.passes import onset_features, spectral_frames
from mir.timbral.signal import MIN_SR, Cached, mono_signal
from mir.timbral.specific_loudness import loudness_windows

if TYPE_CHECKING:
    from mir.audio import Audio


#: keys, each on 0-100 (reverberation: probability x 100)
TIMBRAL_KEYS = (
    "brightness",
    "roughness",
    "hardness",
    "depth",
    "booming",
    "sharpness",
    "warmth",
    "reverberation",
)


def timbral_features(
    samples: np.ndarray, *, sr: int, cached: Cached | None = None
) -> dict[str, float | Undefined]:
    """The eight Audio Commons timbral ratings of a (mono or multichannel) signal.

    Parameters
    ----------
    samples : np.ndarray, shape (n,) or (n, channels)
        Float audio; channels are summed (the first three) as the package does.
    sr : int
        Sample rate in Hz.
    cached : callable, optional
        `cached(key, compute)` memoiser (such as :meth:`mir.audio.Audio.cached`) to keep
        and share the intermediates, keyed "timbral_...".

    Returns
    -------
    dict
        `brightness`, `roughness`, `hardness`, `depth`, `booming`, `sharpness`, `warmth`
        (0-100, clamped) and `reverberation` (probability of reverberant content x 100),
        each rounded to 4 decimals; or, where a rating does not exist for the signal, a
        :class:`~mir.family.Undefined` saying why (never NaN): every key for digital
        silence or a signal with no block above the -70 LUFS gate, and each model's own
        cases (its `rating` says which).

    Examples
    --------
    >>> t = np.arange(3 * 44100) / 44100
    >>> ratings = timbral_features(0.3 * np.sin(2 * np.pi * 3000 * t), sr=44100)
    >>> ratings["brightness"] > 70, ratings["roughness"]
    (True, 0.0)
    """
    x = np.asarray(samples)
    if cached is None:
        memo: dict[str, Any] = {}

        def cached(key, compute):
            if key not in memo:
                memo[key] = compute()
            return memo[key]

    return _ratings(x, sr, cached)


def timbral_of_audio(audio: Audio) -> dict[str, float | Undefined]:
    """:func:`timbral_features` of a decoded track, its intermediates cached on it.

    The package would see `audio.samples` (float32, (n, channels)) at `audio.sr`: that is
    what is analysed, the channels summed; below 44.1 kHz the track's shared
    `audio.mono(44100)` is the resampled signal.
    """
    return dict(
        audio.cached(
            "timbral_ratings",
            lambda: _ratings(
                audio.samples,
                audio.sr,
                audio.cached,
                mono44=lambda: audio.mono(MIN_SR),
            ),
        )
    )


def _clamped(value: float | Undefined) -> float | Undefined:
    """A rating on the 0-100 scale, to 4 decimals: a regression beyond it (a log of zero
    power gives -inf) at its end."""
    if isinstance(value, Undefined):
        return value
    return round(float(np.clip(value, 0.0, 100.0)), 4)


def _ratings(samples: np.ndarray, sr: int, cached: Cached, *, mono44=None) -> dict:
    """The eight ratings; what the models share (the loudness windows of sharpness,
    booming, hardness and warmth; the spectral frames of brightness and depth; the
    onsets of warmth and hardness) is computed once and kept through `cached`."""
    src = mono_signal(samples, sr, cached, mono44=mono44)
    if isinstance(src, Undefined):  # silence, or nothing above the loudness gate
        return {key: src for key in TIMBRAL_KEYS}
    measures = {
        **sharpness.window_measures(),
        **booming.window_measures(),
        **hardness.window_measures(),
        **warmth.window_measures(),
    }
    win = cached("timbral_loudness_windows", lambda: loudness_windows(src, measures))
    spectral = cached("timbral_spectral_frames", lambda: spectral_frames(src))
    onsets = cached("timbral_onset_features", lambda: onset_features(src))
    values = {
        "brightness": brightness.rating(spectral),
        "depth": depth.rating(spectral, src.sr),
        "hardness": hardness.rating(win, onsets, src.sr),
        "roughness": cached("timbral_roughness", lambda: roughness.rating(src)),
        "warmth": warmth.rating(src, win, onsets["warmth_onsets"]),
        "sharpness": sharpness.rating(win),
        "booming": booming.rating(win),
        "reverberation": cached("timbral_reverberation", lambda: reverberation.rating(samples, sr)),
    }
    return {key: _clamped(values[key]) for key in TIMBRAL_KEYS}

"""Dataset hygiene: what should not go into a training set, found in the audio itself.

- **Near-duplicates**: the same recording twice (a FLAC and a 128 kbps MP3 of it, a copy
  trimmed by a few seconds), found by comparing Chromaprint fingerprints (`fpcalc`, Debian's
  `libchromaprint-tools`) bit by bit at their best alignment, not by hashing files.
- **Fake lossless**: a lossless file whose spectrum ends at a lossy encoder's low-pass
  (about 16, 19 or 20 kHz), although its sample rate would carry more.
- **Clipping**: runs of consecutive full-scale samples (not the same thing as
  :func:`mir.spectral.saturation`, which measures how long the envelope sits near full
  scale: a limited master saturates without a single clipped run).
- **Digital silence** and tracks **too short** for one training crop.

Everything here is pure (arrays and paths in, numbers out); which copy of a duplicate
group is kept is decided by :func:`keeper`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from mir.audio import Audio
from mir.config import EXPORT_EXCLUSIONS
from mir.errors import MirError
from mir.intermediates import SR, STFT_BLOCK_FRAMES, mono44, stft_magnitude

#: the Debian package that ships `fpcalc`
FPCALC_PACKAGE = "libchromaprint-tools"
#: fingerprint items per second of audio (Chromaprint: 11025 Hz, a hop of 4096 / 3 samples)
ITEMS_PER_SECOND = 11025 / (4096 / 3)

#: two fingerprints at least this similar (1 - bit error rate at their best alignment)
#: are the same recording. Measured: a FLAC and its 128 kbps MP3 0.97, a copy trimmed by
#: 5 s 0.95, unrelated real tracks at most 0.59 (docs/training-data.md, "Dataset hygiene")
DUPLICATE_SIMILARITY = 0.80
#: only tracks whose durations differ by at most this share of the longer are compared
DURATION_TOLERANCE = 0.15
#: the alignments searched: one copy may start up to this many seconds before the other
MAX_OFFSET_S = 30.0
#: the two fingerprints must overlap over at least this share of the shorter one
MIN_OVERLAP = 0.5
#: a fingerprint with fewer distinct items (silence, a second of audio) is not compared
MIN_DISTINCT_ITEMS = 16

#: where a lossy encoder's low-pass is looked for, in Hz (LAME: 16-17 kHz at 128 kbps,
#: 19 kHz at 192, 20-20.5 kHz at 320; AAC and Vorbis alike). A CD's own anti-alias
#: filter lies above 21 kHz and is not searched.
CUTOFF_RANGE_HZ = (14500.0, 20600.0)
#: a cliff: the spectrum above the cutoff lies this far below the band just under it ...
CLIFF_DB = 30.0
#: ... and this far below the loudest band of the track (near-silence, not a slope)
STOPBAND_BELOW_PEAK_DB = 60.0

#: a sample at or above this magnitude is at full scale (16-bit 32767 is 0.99997)
FULL_SCALE = 0.999
#: consecutive full-scale samples (in one channel) that make a clipped run
CLIP_MIN_RUN = 3
#: a track is `clipped` when at least this share of its samples lie in clipped runs
CLIPPED_MIN_RATIO = 1e-4

#: a 10 ms window whose peak lies at or below this level is digital silence ...
SILENCE_DBFS = -90.0
#: ... when it belongs to a stretch of at least this many seconds of such windows
SILENCE_MIN_S = 1.0
#: a track is `silent` when at least this share of it is digital silence
SILENT_MIN_RATIO = 0.5

_BLOCK_SAMPLES = 1 << 20


class FingerprintError(MirError):
    """`fpcalc` is missing or could not fingerprint a file."""


# -- fingerprints ----------------------------------------------------------------------


def check_fpcalc() -> str:
    """The path of `fpcalc`.

    Raises
    ------
    FingerprintError
        If it is not on PATH, saying which Debian package ships it.
    """
    fpcalc = shutil.which("fpcalc")
    if fpcalc is None:
        raise FingerprintError(
            f"fpcalc (Chromaprint) is not on PATH: install Debian's {FPCALC_PACKAGE} "
            f"(`apt-get install {FPCALC_PACKAGE}`; `make setup` does when run as root)"
        )
    return fpcalc


def _fpcalc(
    args: list[str], *, what: str, stdin: bytes | None = None, timeout_s: float
) -> np.ndarray:
    """Run `fpcalc -raw -length 0 -json <args>` and return its raw fingerprint."""
    fpcalc = check_fpcalc()
    proc = subprocess.run(
        [fpcalc, "-raw", "-length", "0", "-json", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout_s,
    )
    stderr = proc.stderr.decode(errors="replace")
    # fpcalc exits non-zero on a benign "end of file" decode warning yet prints a good
    # fingerprint (as mir/metadata/services.py notes): trust the output, not the exit code
    try:
        items = json.loads(proc.stdout)["fingerprint"]
    except (json.JSONDecodeError, KeyError, TypeError):
        if "Empty fingerprint" in stderr:
            return np.zeros(0, dtype=np.uint32)
        why = stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise FingerprintError(f"{what}: fpcalc could not fingerprint it ({why[0]})") from None
    return np.asarray(items, dtype=np.int64).astype(np.uint32)


def fingerprint(path: str | os.PathLike, *, timeout_s: float = 600.0) -> np.ndarray:
    """The raw Chromaprint fingerprint of a whole file (`fpcalc -raw -length 0 -json`),
    decoded by fpcalc's own FFmpeg.

    Returns
    -------
    np.ndarray of uint32
        One 32-bit item per 1/:data:`ITEMS_PER_SECOND` s (about 0.124 s); empty for a
        file too short to fingerprint (under about 3 s).

    Raises
    ------
    FingerprintError
        `fpcalc` is not installed (the message names the Debian package), or it could not
        read the file.
    """
    return _fpcalc([str(path)], what=str(path), timeout_s=timeout_s)


def fingerprint_audio(audio: Audio, *, timeout_s: float = 600.0) -> np.ndarray:
    """:func:`fingerprint` of a decoded track: its shared 44.1 kHz mono, piped to `fpcalc`
    as 16-bit PCM. Every file the project decodes can be fingerprinted this way (fpcalc's
    FFmpeg refuses some Ogg files libsndfile reads), and nothing is decoded twice; the
    items equal those of the file's own fingerprint."""
    pcm = (np.clip(mono44(audio), -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    what = str(audio.path) if audio.path else "decoded audio"
    args = ["-format", "s16le", "-rate", str(SR), "-channels", "1", "-"]
    return _fpcalc(args, what=what, stdin=pcm, timeout_s=timeout_s)


def fingerprint_to_bytes(items: np.ndarray) -> bytes:
    """The fingerprint as little-endian uint32 bytes (4 bytes an item, for a BLOB)."""
    return np.ascontiguousarray(items, dtype="<u4").tobytes()


def fingerprint_from_bytes(data: bytes | None) -> np.ndarray:
    """Inverse of :func:`fingerprint_to_bytes`."""
    return np.frombuffer(bytes(data or b""), dtype="<u4").astype(np.uint32)


def comparable(items: np.ndarray) -> bool:
    """Whether a fingerprint carries enough to be compared (not silence, not a blip)."""
    return np.unique(items).size >= MIN_DISTINCT_ITEMS


def _bits(items: np.ndarray) -> np.ndarray:
    """Items as 32 rows of +1/-1 (bit set / clear)."""
    shifts = np.arange(32, dtype=np.uint32)[:, None]
    return ((items[None, :] >> shifts) & 1).astype(np.float64) * 2.0 - 1.0


def fingerprint_similarity(
    a: np.ndarray,
    b: np.ndarray,
    *,
    max_offset_s: float = MAX_OFFSET_S,
    min_overlap: float = MIN_OVERLAP,
) -> float:
    """1 - the bit error rate of two raw fingerprints at their best alignment.

    Every offset of up to `max_offset_s` is tried (either copy may start later), over
    the items both cover, which must be at least `min_overlap` of the shorter one. The
    agreement of all 32 bits at every offset comes from one FFT cross-correlation, so the
    cost grows as n log n with the length, not with length x offsets.

    Returns
    -------
    float
        0..1: 1 for the same fingerprint, about 0.97 for a FLAC and its 128 kbps MP3,
        about 0.5 for unrelated music; 0 when either is empty.

    Examples
    --------
    >>> fingerprint_similarity(fingerprint("song.flac"), fingerprint("song.mp3"))  # doctest: +SKIP
    0.971
    """
    a, b = np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)
    la, lb = a.size, b.size
    if la == 0 or lb == 0:
        return 0.0
    n = 1 << int(np.ceil(np.log2(la + lb)))
    spectrum = (np.fft.rfft(_bits(a), n) * np.conj(np.fft.rfft(_bits(b), n))).sum(axis=0)
    circular = np.fft.irfft(spectrum, n)
    # agreement - disagreement when a[i + k] meets b[i], for k = -(lb - 1) .. la - 1
    lags = np.arange(-(lb - 1), la)
    agreement = (
        np.concatenate([circular[n - (lb - 1) :], circular[:la]]) if lb > 1 else circular[:la]
    )
    overlap = np.minimum(la, lags + lb) - np.maximum(0, lags)
    allowed = (np.abs(lags) <= max_offset_s * ITEMS_PER_SECOND) & (
        overlap >= max(1, min_overlap * min(la, lb))
    )
    if not allowed.any():
        return 0.0
    ber = (1.0 - agreement[allowed] / (32.0 * overlap[allowed])) / 2.0
    return round(float(np.clip(1.0 - ber.min(), 0.0, 1.0)), 4)


class ItemScreen:
    """A cheap screen before :func:`fingerprint_similarity`, built once for a fingerprint
    and asked about many: copies of one recording share many exact 32-bit items (a FLAC
    and its 128 kbps MP3 about 40 %, a trimmed copy about 20 %), unrelated music next to
    none (not one pair of 465 among 31 real tracks)."""

    def __init__(self, items: np.ndarray, *, min_share: float = 0.01):
        self.distinct = np.unique(np.asarray(items, dtype=np.uint32))
        self.size = int(np.asarray(items).size)
        self.min_share = min_share

    def passes(self, other: np.ndarray) -> bool:
        """Whether at least `min_share` of the shorter fingerprint's items (and at least 2)
        of `other` are items of this one."""
        if self.distinct.size == 0 or other.size == 0:
            return False
        at = np.searchsorted(self.distinct, other)
        at[at == self.distinct.size] = 0
        common = np.count_nonzero(self.distinct[at] == other)
        return common >= max(2, self.min_share * min(self.size, other.size))


def share_items(a: np.ndarray, b: np.ndarray, *, min_share: float = 0.01) -> bool:
    """:class:`ItemScreen` of `a` asked about `b`."""
    return ItemScreen(a, min_share=min_share).passes(np.asarray(b, dtype=np.uint32))


# -- which copy is kept ----------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    """One track as a candidate copy of a recording.

    Attributes
    ----------
    lossless : bool
        A lossless format that is not fake lossless.
    bitrate_kbps : int
        Of a lossy file (0 for lossless ones and when unknown).
    """

    track_id: str
    lossless: bool
    clipped: bool
    bitrate_kbps: int
    sample_rate: int
    duration_s: float

    def rank(self) -> tuple:
        """Higher is better: lossless over lossy (a fake lossless file counts as lossy
        of unknown bitrate), unclipped over clipped, then the higher bitrate, the higher
        sample rate, the longer copy."""
        return (
            self.lossless,
            not self.clipped,
            self.bitrate_kbps,
            self.sample_rate,
            round(self.duration_s, 3),
        )


def keeper(copies: Iterable[Copy]) -> Copy:
    """The copy of a duplicate group to keep: the best :meth:`Copy.rank`; between equals
    the smallest track id, so the choice does not depend on the order tracks arrive in."""
    return min(copies, key=lambda c: (tuple(-float(v) for v in c.rank()), c.track_id))


# -- fake lossless ---------------------------------------------------------------------


def mean_spectrum_db(audio: Audio) -> np.ndarray:
    """Mean power of the shared STFT (44.1 kHz mono, 2048 bins) per bin, in dB."""
    mag = stft_magnitude(audio)
    power = np.zeros(mag.shape[0], dtype=np.float64)
    for a in range(0, mag.shape[1], STFT_BLOCK_FRAMES):  # no squared copy of the track
        block = mag[:, a : a + STFT_BLOCK_FRAMES]
        power += np.einsum("ij,ij->i", block, block, dtype=np.float64)
    power /= max(mag.shape[1], 1)
    return 10.0 * np.log10(np.maximum(power, 1e-30))


def cutoff_of_spectrum(
    spectrum_db: np.ndarray, *, sr: int = SR, source_sr: int | None = None
) -> float | None:
    """The frequency where a spectrum falls off a cliff, in Hz, or None.

    A cliff at frequency f: the band from f + 300 Hz up to what the source's rate carries
    lies at least :data:`CLIFF_DB` below the kilohertz under f, and at least
    :data:`STOPBAND_BELOW_PEAK_DB` below the loudest band. f is searched in
    :data:`CUTOFF_RANGE_HZ`, below the source's Nyquist frequency (a 32 kHz file
    ends at 16 kHz by its rate, not by an encoder). A dull mix slopes down by a few dB per
    kHz; an encoder's low-pass drops 50 dB or more within a few hundred Hz.

    Returns
    -------
    float or None
        The top of the passband: the highest frequency under the cliff whose level lies
        within 10 dB of the kilohertz below it, in Hz.
    """
    db = np.asarray(spectrum_db, dtype=np.float64)
    bin_hz = sr / (2.0 * (db.size - 1))
    # 7-bin (150 Hz) moving average of the power: a smooth curve, edges kept sharp enough
    power = np.convolve(10.0 ** (db / 10.0), np.ones(7) / 7.0, mode="same")
    smooth = 10.0 * np.log10(np.maximum(power, 1e-30))
    nyquist = min(sr, source_sr or sr) / 2.0
    top = int(0.97 * nyquist / bin_hz)  # resamplers roll off just under Nyquist
    lo = int(CUTOFF_RANGE_HZ[0] / bin_hz)
    hi = min(int(CUTOFF_RANGE_HZ[1] / bin_hz), top - int(600 / bin_hz))
    if hi <= lo:
        return None
    below_w, gap, after_gap = int(1000 / bin_hz), int(150 / bin_hz), int(300 / bin_hz)
    peak = smooth[: top + 1].max()
    for k in range(lo, hi + 1):  # the lowest frequency where the cliff holds
        passband = float(np.median(smooth[k - below_w : k - gap]))
        stopband = float(np.percentile(smooth[k + after_gap : top + 1], 95))
        if passband - stopband >= CLIFF_DB and stopband <= peak - STOPBAND_BELOW_PEAK_DB:
            # the top of the passband: the last bin before the stopband within 10 dB of it
            first = k - below_w
            inside = np.flatnonzero(smooth[first : k + after_gap] >= passband - 10.0)
            return round(float((first + int(inside[-1]) + 1) * bin_hz), 1)
    return None


def lossy_cutoff_hz(audio: Audio) -> float | None:
    """Where a lossy encoder's low-pass ends the track's spectrum, in Hz, or None.

    From the mean spectrum of the shared STFT (:func:`mean_spectrum_db`), see
    :func:`cutoff_of_spectrum`; the track's own sample rate bounds the search.
    """
    return cutoff_of_spectrum(mean_spectrum_db(audio), source_sr=audio.sr)


# -- clipping and silence --------------------------------------------------------------


def clipping(
    samples: np.ndarray, *, threshold: float = FULL_SCALE, min_run: int = CLIP_MIN_RUN
) -> dict[str, float]:
    """Runs of at least `min_run` consecutive samples at `|x| >= threshold`, per channel.

    Returns
    -------
    dict
        `clipped_runs` (count, all channels) and `clipped_ratio` (share of all samples
        that lie in such runs, 0..1). Worked in blocks; a run across blocks counts once.
    """
    x = np.asarray(samples)
    x = x[:, None] if x.ndim == 1 else x
    runs = in_runs = 0
    for channel in range(x.shape[1]):
        carry = 0  # the full-scale run still open at the end of the previous block
        for a in range(0, x.shape[0], _BLOCK_SAMPLES):
            full = np.abs(x[a : a + _BLOCK_SAMPLES, channel]) >= threshold
            edges = np.diff(np.concatenate([[0], full.view(np.int8), [0]]))
            starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            lengths = ends - starts
            if carry and starts.size and starts[0] == 0:
                lengths[0] += carry
            elif carry:  # the open run ended exactly at the block edge
                runs += carry >= min_run
                in_runs += carry if carry >= min_run else 0
            carry = 0
            if lengths.size and ends[-1] == full.size:
                carry, lengths = int(lengths[-1]), lengths[:-1]
            long = lengths[lengths >= min_run]
            runs += long.size
            in_runs += int(long.sum())
        if carry >= min_run:
            runs += 1
            in_runs += carry
    total = x.size
    return {
        "clipped_runs": int(runs),
        "clipped_ratio": float(f"{in_runs / total:.6g}") if total else 0.0,
    }


def silence_ratio(
    samples: np.ndarray,
    *,
    sr: int,
    floor_dbfs: float = SILENCE_DBFS,
    min_stretch_s: float = SILENCE_MIN_S,
) -> float:
    """Share of the duration (0..1) in stretches of at least `min_stretch_s` whose
    10 ms windows all peak at or below `floor_dbfs` (digital silence: zeros, or dither
    and DC far below anything audible), all channels together."""
    x = np.asarray(samples)
    x = x[:, None] if x.ndim == 1 else x
    window = max(1, int(0.010 * sr))
    n = x.shape[0] // window
    if n == 0:
        return 1.0 if not np.any(np.abs(x) > 10 ** (floor_dbfs / 20)) else 0.0
    step = window * max(1, _BLOCK_SAMPLES // window)
    parts = []
    for a in range(0, n * window, step):
        block = x[a : min(a + step, n * window)]
        peak = np.abs(block[:, 0])
        for channel in range(1, block.shape[1]):  # column by column: no reduction over 2
            np.maximum(peak, np.abs(block[:, channel]), out=peak)
        parts.append(peak.reshape(-1, window).max(axis=1))
    peaks = np.concatenate(parts)
    quiet = peaks <= 10 ** (floor_dbfs / 20)
    edges = np.diff(np.concatenate([[0], quiet.view(np.int8), [0]]))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    long = lengths[lengths * window >= min_stretch_s * sr]
    return round(float(long.sum()) / n, 6)


def min_crop_seconds(length_samples: int) -> float:
    """The shortest track that yields one crop of `length_samples` (at 44.1 kHz): a crop
    is never shorter than :data:`mir.dataset.crops.MIN_FRACTION` of its length."""
    from mir.dataset.crops import MIN_FRACTION

    return length_samples / SR * MIN_FRACTION


# -- one track -------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityReport:
    """What :func:`assess` finds in one track (the duplicate decision needs the library
    and is made by the caller)."""

    fingerprint: np.ndarray
    lossy_cutoff_hz: float | None
    fake_lossless: bool
    clipped_runs: int
    clipped_ratio: float
    clipped: bool
    silence_ratio: float
    silent: bool
    too_short: bool

    def values(self) -> dict:
        """The flat `.INFO` / DuckDB values (all but the fingerprint)."""
        return {
            "fake_lossless": self.fake_lossless,
            "lossy_cutoff_hz": self.lossy_cutoff_hz,
            "clipped": self.clipped,
            "clipped_runs": self.clipped_runs,
            "clipped_ratio": self.clipped_ratio,
            "silent": self.silent,
            "silence_ratio": self.silence_ratio,
            "too_short": self.too_short,
        }


def assess(audio: Audio, *, lossless: bool, min_seconds: float) -> QualityReport:
    """Fingerprint a decoded track (:func:`fingerprint_audio`) and check it for a lossy
    low-pass (a `lossless` file with one is fake lossless), clipping, digital silence,
    and a duration under `min_seconds` (see :func:`min_crop_seconds`)."""
    cutoff = lossy_cutoff_hz(audio)
    clip = clipping(audio.samples)
    silence = silence_ratio(audio.samples, sr=audio.sr)
    return QualityReport(
        fingerprint=fingerprint_audio(audio),
        lossy_cutoff_hz=cutoff,
        fake_lossless=bool(lossless and cutoff is not None),
        clipped_runs=clip["clipped_runs"],
        clipped_ratio=clip["clipped_ratio"],
        clipped=clip["clipped_ratio"] >= CLIPPED_MIN_RATIO,
        silence_ratio=silence,
        silent=silence >= SILENT_MIN_RATIO,
        too_short=audio.duration_s < min_seconds,
    )


#: the categories `export.exclude` may name
EXCLUSION_CATEGORIES = EXPORT_EXCLUSIONS


def exclusion_reason(values: dict, exclude: Iterable[str]) -> str | None:
    """Why a track with these `audio_quality` values stays out of the dataset under
    `exclude` (a few of :data:`EXCLUSION_CATEGORIES`), or None when it goes in."""
    exclude = set(exclude)
    reasons = []
    if "duplicate" in exclude and values.get("duplicate_of"):
        similarity = values.get("duplicate_similarity")
        how = f" (similarity {similarity:.2f})" if isinstance(similarity, float) else ""
        reasons.append(f"duplicate of {values['duplicate_of']}{how}")
    if "fake_lossless" in exclude and values.get("fake_lossless"):
        reasons.append(
            f"fake lossless (spectrum ends at {values.get('lossy_cutoff_hz', 0):.0f} Hz)"
        )
    if "clipped" in exclude and values.get("clipped"):
        reasons.append(f"clipped ({values.get('clipped_runs', 0)} runs of full-scale samples)")
    if "silent" in exclude and values.get("silent"):
        reasons.append(f"digital silence ({values.get('silence_ratio', 0):.0%} of it)")
    if "too_short" in exclude and values.get("too_short"):
        reasons.append("too short for one crop")
    return "; ".join(reasons) or None

"""Training crops: beat-aligned (or sequential) excerpts of a track and its stems.

The original pipeline's algorithm (spec section 8): crops of `length` samples that start
on a downbeat after the leading silence, end on a downbeat (a multiple of 4 bars with
`div4`), snap to zero crossings, fade in and out over 10 ms, and are never shorter than
75 % of the length. Unlike the original, silent crops are rejected.

:func:`make_crops` writes a track's crops: the audio of the mix and its stems, each crop's
`.INFO` (the track's values, its own bookkeeping, features and captions) and series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mir.audio import Audio, extension
from mir.captions.template import caption_for, template_caption
from mir.chords import crop_chords
from mir.dataset.timeseries import NPZ_SUFFIX, crop_timeseries, write_npz
from mir.errors import MissingInput
from mir.feature_table import inherited_by_crops
from mir.info import safe_update
from mir.intermediates import SR
from mir.separation.files import mp3_bitrate, write_stem
from mir.structure import Section, section_series, span_values

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


def plan_section_crops(
    y: np.ndarray,
    *,
    sr: int,
    length: int,
    beats: np.ndarray,
    downbeats: np.ndarray,
    sections: Sequence[Section],
    mode: str = "beat-aligned",
    div4: bool = True,
    overlap: bool = False,
) -> list[Crop]:
    """:func:`plan_crops` within each section: every section's first crop starts where
    the section starts (a downbeat), and no crop crosses a section boundary (a crop
    reaching the end of its section is cut there, and dropped when shorter than 75 % of
    the length). Sections are in seconds; crops are numbered across the track."""
    crops: list[Crop] = []
    beats = np.asarray(beats, dtype=float)
    downbeats = np.asarray(downbeats, dtype=float)
    for section in sections:
        lo = min(max(int(round(section.start * sr)), 0), y.size)
        hi = min(max(int(round(section.end * sr)), lo), y.size)
        if hi - lo < int(MIN_FRACTION * length):
            continue
        t0, t1 = lo / sr, hi / sr
        for crop in plan_crops(
            y[lo:hi],
            sr=sr,
            length=length,
            beats=beats[(beats >= t0) & (beats < t1)] - t0,
            downbeats=downbeats[(downbeats >= t0 - 1e-6) & (downbeats < t1)] - t0,
            mode=mode,
            div4=div4,
            overlap=overlap,
        ):
            crops.append(Crop(len(crops), crop.start + lo, crop.end + lo, sr, crop.downbeats))
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


def local_tempo(beats: np.ndarray, crop: Crop) -> tuple[float | None, int]:
    """(BPM from the mean inter-beat interval of the beats inside the crop, their count);
    the BPM is None with fewer than two beats inside."""
    inside = times_within(beats, crop.start_time, crop.end_time)
    if inside.size < 2:
        return None, int(inside.size)
    return round(60.0 / float(np.mean(np.diff(inside))), 1), int(inside.size)


# -- a track's crops: files, .INFO and series ---------------------------------------------


#: the prefix of Music Flamingo's captions (and their revisions) in `.INFO`
CAPTIONS = "music_flamingo_"
LOSSY_TO = {"m4a": "mp3", "aac": "mp3", "mp4": "mp3", "ogg": "flac", "aif": "aiff"}


#: HPCP framing of the track's and the crops' key (:func:`mir.harmonic.hpcp_of`'s default)
HPCP_FRAME, HPCP_HOP = 4096, 2048


def _frames_from_zero(n: int, frame: int, hop: int) -> int:
    """How many frames Essentia's FrameGenerator (`startFromZero`) cuts from `n` samples."""
    return -(-(n - frame) // hop) + 1 if n >= frame else 0


@dataclass(frozen=True)
class CropKey:
    """What a crop's key is read from, taken from its track's analysis
    (:func:`crop_key_inputs`): the HPCP frames (4096 / 2048, A-based), the key
    network's probabilities (None: the crop's own are computed) and the recognised chords
    inside the crop (None: the crop's own are recognised)."""

    hpcp: np.ndarray
    cnn: np.ndarray | None
    chords: list | None = None


def crop_key_inputs(track: Audio, crop: Crop) -> CropKey | None:
    """The crop's key inputs as slices of the track's analysis, or None where the track's
    frames do not cover the crop (then the crop's own are computed).

    A crop's key reads the mean of its HPCP frames and the key network's map averaged over
    the crop. Both are averages over frames that the track's analysis already computed
    (and the key network costs about as much per 10 s crop as for a whole 4-minute
    track), so they are taken from the track's, computed once and shared:

    - the HPCP frames are the track's nearest the crop's own (the same count, each within
      1024 samples, 23 ms, of the crop's frame);
    - the key network's probabilities are its feature map's rows inside the crop (rows of
      1.6 s, :class:`mir.key.KeyCnnRows`) in place of the map of the crop alone;
    - the chords its tonic chord is read from are the track's recognised chords
      (:func:`mir.chords.chords_of`, those of the `chords` family) clipped to the crop.

    The crop's per-step series, spectral shape, band levels and loudness stay computed on
    its own samples: they are read per frame, and a slice of the track's frames would be
    offset from the crop's start by up to half a hop."""
    from mir.chords import chords_of, clipped_chords
    from mir.harmonic import hpcp_of, key_cnn_rows_of

    start = crop.start * SR / track.sr  # in 44.1 kHz samples
    n44 = crop.samples if track.sr == SR else int(np.ceil(crop.samples * SR / track.sr))
    frames = hpcp_of(track, frame_size=HPCP_FRAME, hop_size=HPCP_HOP)
    count = _frames_from_zero(n44, HPCP_FRAME, HPCP_HOP)
    k0 = round(start / HPCP_HOP)
    if not count or k0 + count > len(frames):
        return None
    rows = key_cnn_rows_of(track)
    cnn = None
    if rows is not None:
        cnn = rows.probabilities(*rows.rows_within(start / SR, (start + n44) / SR))
    chords = clipped_chords(chords_of(track), crop.start_time, crop.end_time)
    return CropKey(frames[k0 : k0 + count], cnn, chords)


def crop_features(
    mix: Audio, stems: dict[str, Audio], *, n_steps: int, key: CropKey | None = None
) -> dict:
    """The per-crop features, with the family functions the track assets use (band levels
    over the `n_steps` bins of the crop's series, which reuse them), each family's values
    as it stores them (:meth:`~mir.family.Family.finish`: an undefined value as None, its
    reason under `<family>_undefined`). `key`: the crop's key inputs taken from its
    track's analysis (:func:`crop_key_inputs`); without it they are computed on `mix`."""
    from mir import analysis
    from mir.chords import chords_of
    from mir.families import HARMONIC, LOUDNESS, SPECTRAL, STEM_LOUDNESS
    from mir.harmonic import hpcp_of

    if key is None:
        hpcp, cnn, chords = hpcp_of(mix), None, chords_of(mix)
    else:
        hpcp, cnn, chords = key.hpcp, key.cnn, key.chords
    values = {
        **LOUDNESS.finish(analysis.loudness_of(mix)),
        **SPECTRAL.finish(analysis.spectral_of(mix, band_steps=n_steps)),
        **HARMONIC.finish(analysis.key_values(mix.mono(SR), hpcp, cnn=cnn, chords=chords)),
    }
    stem_values = {}
    for name, stem in stems.items():
        loud = analysis.loudness_of(stem)
        stem_values[f"lufs_{name}"], stem_values[f"lra_{name}"] = loud["lufs"], loud["lra"]
    if stem_values:
        values.update(STEM_LOUDNESS.finish(stem_values))
    return values


def at_rate(crop: Crop, sr: int) -> Crop:
    """The same crop in samples of another rate (a stem at 48 kHz beside a 44.1 kHz mix)."""
    if sr == crop.sr:
        return crop
    scale = sr / crop.sr
    return Crop(crop.index, round(crop.start * scale), round(crop.end * scale), sr, crop.downbeats)


@dataclass
class TrackCrops:
    """What :func:`make_crops` wrote for one track.

    Attributes
    ----------
    rows : list of dict
        One per crop kept: its `.INFO` values without the dict-valued ones (the table rows).
    series : dict of crop index -> dict of name -> np.ndarray
        Each crop's `n_steps`-step series (with `cfg.timeseries`).
    rejected : int
        Silent crops left out.
    written : set of str
        The names of the files written in the output folder (audio, `.INFO` and its lock,
        series), so that the files of an earlier cropping can be removed.
    """

    rows: list[dict] = field(default_factory=list)
    series: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    rejected: int = 0
    written: set[str] = field(default_factory=set)


def make_crops(
    audio: Audio,
    *,
    name: str,
    source: Path,
    out_dir: Path,
    beats: np.ndarray,
    downbeats: np.ndarray,
    stems: dict[str, Audio],
    track_values: dict[str, Any],
    chord_segments: list | None,
    cfg,
    model_values: Callable[[Audio, dict[str, Audio]], dict] | None = None,
    captions: Callable[[Path, dict], dict] | None = None,
    sections: Sequence[Section] | None = None,
) -> TrackCrops:
    """Cut a track (and its stems) into crops in `out_dir`: `<name>_<N>.<ext>` for the mix,
    `<name>_<N>_<stem>.<ext>` for each stem, `<name>_<N>.INFO` and, with `cfg.timeseries`,
    `<name>_<N>.TIMESERIES.npz`.

    Parameters
    ----------
    audio : Audio
        The decoded mix of `source`; crops are cut at its rate, the length
        (`cfg.length_samples`) is defined at 44.1 kHz.
    beats, downbeats : np.ndarray
        Beat and downbeat times of the track, in seconds.
    stems : dict of name -> Audio
        The stems to crop beside the mix (each cut at its own rate, same times).
    track_values : dict
        The track's `.INFO`: every key that :func:`~mir.feature_table.inherited_by_crops` goes to each crop.
    chord_segments : list or None
        The track's chord segments (each crop gets its own), or None without them.
    cfg : CropsConfig
        The `crops` section of the configuration.
    model_values : callable, optional
        `(mix crop, stem crops) -> values` of models run on each crop's own audio.
    captions : callable, optional
        `(crop audio file, values) -> captions` of each crop's own audio; a non-empty
        answer replaces the track's captions (revisions included).
    sections : sequence of Section, optional
        The track's sections (the `structure` asset's `.SECTIONS`): each crop carries its
        section's name and place (:func:`mir.structure.span_values`), and with
        `cfg.sections` the crops start at section starts and never straddle a boundary
        (:func:`plan_section_crops`).

    Each crop's `.INFO` holds its bookkeeping (`position`, `start_time`, `end_time`,
    `start_sample`, `end_sample`, `duration`, `samples`, `downbeats`, local `bpm` and
    `beat_count`), the track's values, its own features (with `cfg.features`) and chords,
    and `caption_template` and `caption` made of these values. Silent crops are rejected.
    Every file is written under a temporary name and renamed into place.
    """
    y = audio.mono()
    length = int(round(cfg.length_samples * audio.sr / SR))
    if getattr(cfg, "sections", False):
        if not sections:
            raise MissingInput(f"{name}.SECTIONS (crops.sections is on)", "structure")
        plan = plan_section_crops(
            y,
            sr=audio.sr,
            length=length,
            beats=beats,
            downbeats=downbeats,
            sections=sections,
            mode=cfg.mode,
            div4=cfg.div4,
            overlap=cfg.overlap,
        )
    else:
        plan = plan_crops(
            y,
            sr=audio.sr,
            length=length,
            beats=beats,
            downbeats=downbeats,
            mode=cfg.mode,
            div4=cfg.div4,
            overlap=cfg.overlap,
        )
    track_values = {k: v for k, v in track_values.items() if inherited_by_crops(k)}
    ext = LOSSY_TO.get(extension(source), extension(source))
    bitrate = mp3_bitrate(source)
    out = TrackCrops()
    rows, written = out.rows, out.written
    for crop in plan:
        mix = cut(audio.samples, crop)
        if is_silent(mix, threshold_dbfs=cfg.silence_dbfs):
            out.rejected += 1
            continue
        index = len(rows)
        crop_name = f"{name}_{index}"
        write_stem(out_dir / f"{crop_name}.{ext}", mix, audio.sr, bitrate=bitrate)
        written.add(f"{crop_name}.{ext}")
        stem_audio = {}
        for stem_name, stem in stems.items():
            # a stem at another rate than the mix is cut at its own rate, same times
            part = cut(stem.samples, at_rate(crop, stem.sr))
            write_stem(out_dir / f"{crop_name}_{stem_name}.{ext}", part, stem.sr, bitrate=bitrate)
            written.add(f"{crop_name}_{stem_name}.{ext}")
            stem_audio[stem_name] = Audio(part, stem.sr)
        bpm, beat_count = local_tempo(beats, crop)
        bookkeeping = {
            "crop_index": index,
            "file": f"{crop_name}.{ext}",
            "position": round(crop.start / audio.n_samples, 6),
            "start_time": round(crop.start_time, 6),
            "end_time": round(crop.end_time, 6),
            "start_sample": crop.start,
            "end_sample": crop.end,
            "duration": round(crop.samples / audio.sr, 6),
            "samples": crop.samples,
            "downbeats": crop.downbeats,
            # the crop's own tempo; else the track's, only where it was measured (None:
            # no tempo, never a made-up number)
            "bpm": bpm
            if bpm is not None
            else (track_values.get("bpm") if track_values.get("bpm_is_defined") else None),
            "beat_count": beat_count,
            "source": source.name,
            "has_stems": bool(stem_audio),
            "stem_names": sorted(stem_audio),
        }
        values = {**track_values, **bookkeeping}
        if sections:  # the crop's section: its name and place in the form
            values.update(span_values(sections, crop.start_time, crop.end_time))
        crop_audio = Audio(mix, audio.sr)  # its views and STFT serve features and series
        if cfg.features:
            key = crop_key_inputs(audio, crop)  # slices of the track's analysis
            values.update(crop_features(crop_audio, stem_audio, n_steps=cfg.n_steps, key=key))
        if chord_segments is not None:
            values.update(crop_chords(chord_segments, crop.start_time, crop.end_time))
        if model_values is not None:
            values.update(model_values(crop_audio, stem_audio))
        if captions is not None:
            own = captions(out_dir / f"{crop_name}.{ext}", values)
            if own:  # the crop's captions replace the track's, revisions included
                values = {k: v for k, v in values.items() if not k.startswith(CAPTIONS)}
                values.update(own)
        # the crop's own: its tempo, key, loudness (and labels, captions) as set above
        values["caption_template"] = template_caption(values)
        values["caption"] = caption_for(values)
        # a crop's .INFO is its own, not merged into what an earlier cropping left
        (out_dir / f"{crop_name}.INFO").unlink(missing_ok=True)
        safe_update(out_dir / f"{crop_name}.INFO", values)
        written |= {f"{crop_name}.INFO", f"{crop_name}.INFO.lock"}
        rows.append({k: v for k, v in values.items() if not isinstance(v, dict)})
        if cfg.timeseries:
            lo, hi = crop.start_time, crop.end_time
            out.series[index] = series = crop_timeseries(
                crop_audio,
                n_steps=cfg.n_steps,
                beats=times_within(beats, lo, hi) - lo,
                downbeats=times_within(downbeats, lo, hi) - lo,
            )
            if sections:  # the track's section index and the place in it, per step
                series.update(
                    section_series(
                        sections,
                        frame_rate=cfg.n_steps / (hi - lo),
                        n_frames=cfg.n_steps,
                        offset_s=lo,
                    )  # fmt: skip
                )
            write_npz(
                out_dir / f"{crop_name}{NPZ_SUFFIX}",
                series,
                {
                    "n_steps": cfg.n_steps,
                    "start_time": bookkeeping["start_time"],
                    "end_time": bookkeeping["end_time"],
                    "duration": bookkeeping["duration"],
                    "sample_rate": audio.sr,
                    "source": source.name,
                },
            )
            written.add(f"{crop_name}{NPZ_SUFFIX}")
    return out

"""The pre-encoded latent corpora: one flat folder per source (the mix, and each stem of
`latents.sources`) that Stable Audio 3's and Stable Audio Tools' pre-encoded readers take
as it is, and what lies beside it.

```
<latents>/<preset>/
  <source>/                 a corpus (nothing else is in it): mix, drums, bass, other, vocals
    NNNNNN.npy              latents of the source's audio, (channels, T), float16
    NNNNNN.json             prompt, seconds_start, seconds_total, padding_mask (T), the
                            window's place (track, source and its path, samples, position)
                            and its conditioning values
    NNNNNN.TIMESERIES.npz   every series of the track pooled to the T frames
    filelist.txt            the item latents, one per line (both readers take it as the list)
    silence.npy             the latents of T frames of silence, (1, channels, T)
    details.json            encoder, rates, dtype, fields, source
    README.md               the card (mir/dataset/card.py): counts, hours, statistics (the
    card_*.png              plots beside it), configuration, the model and licence of each key
  <source>_ctrl/            NNNNNN.npy control arrays (C x T, float16), normalisation.json
                            (channels, median, half the 16-84 % span: :func:`write_controls`)
                            and control_fields.json (the control fields of each item)
  <source>_sat_pre_encoded.json   the dataset config of stable-audio-tools' pre_encoded type
  captions.json             {item id: {template, short, full}}
  items.json                the id of each (track, window) and, per source, what it was
                            encoded from
```

Ids are six digits, given once to a (track, window), and shared by the sources: `mix/
000042.npy` and `drums/000042.npy` are the same window of the same track. A (track, window)
keeps its id across runs; an item whose source audio or window plan changed is encoded
again under the same id; a window that no longer exists takes its files with it (in every
corpus), and its id is not given again. A track without a configured stem has no item in
that stem's corpus.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mir.dataset.card import CARD_FILES, key_models, value_families, write_card
from mir.dataset.files import write_json, write_text
from mir.dataset.timeseries import NPZ_SUFFIX, read_npz, series_family, write_npz
from mir.dataset.windows import Window
from mir.families import STEMS

#: the mix's corpus; the stems' are named after the stem
CORPUS = "mix"
#: every source a corpus can be made of
SOURCES = (CORPUS, *STEMS)
ID_DIGITS = 6
FILELIST = "filelist.txt"
SILENCE = "silence.npy"
DETAILS = "details.json"
ITEMS = "items.json"
CAPTIONS = "captions.json"
SAT_CONFIG = "sat_pre_encoded.json"
NORMALISATION = "normalisation.json"
CONTROL_INDEX = "control_fields.json"
#: the files a corpus folder may hold besides its items
CORPUS_FILES = (FILELIST, SILENCE, DETAILS, *CARD_FILES)
#: the normalisation reads at most this many items (a stable sample: :func:`sample_items`)
#: and this many frames of each channel over them
CONTROL_SAMPLE_ITEMS = 256
CONTROL_SAMPLE_FRAMES = 65536
#: a new normalisation replaces the one in use (and every control array is written
#: again) only when a median or a half span moved by more than this share of the half
#: span in use, or the channels changed
CONTROL_TOLERANCE = 0.05
#: normalised control values are clipped to +-this (float16 holds 65504)
CONTROL_CLIP = 100.0
#: the control channels, in order: each is taken when every item's series has it
CONTROL_FIELDS = (
    "rms_energy_bass_ts",
    "rms_energy_body_ts",
    "rms_energy_mid_ts",
    "rms_energy_air_ts",
    *(f"rms_{s}_ts" for s in ("drums", "bass", "other", "vocals")),
    *(f"onset_envelope_{s}_ts" for s in ("drums", "bass", "other", "vocals")),
    "beat_activation_ts",
    "downbeat_activation_ts",
    "onset_envelope_ts",
    "hpcp_ts",
    "spectral_flatness_ts",
    "spectral_flux_ts",
    "spectral_skewness_ts",
    "spectral_kurtosis_ts",
    "position_ts",
    "f0_bass_ts",
    "f0_other_ts",
)


def corpus_paths(root: Path, corpus: str = CORPUS) -> dict[str, Path]:
    """The corpus folder of a source and what lies beside it, under `<latents>/<preset>/`."""
    return {
        "corpus": root / corpus,
        "ctrl": root / f"{corpus}_ctrl",
        "captions": root / CAPTIONS,
        "items": root / ITEMS,
        "sat_config": root / f"{corpus}_{SAT_CONFIG}",
    }


def item_name(item_id: int) -> str:
    return f"{item_id:0{ID_DIGITS}d}"


# -- the ids of the items ---------------------------------------------------------------


@dataclass
class ItemIndex:
    """`items.json`: the id of each (track, window index), and, per source, what its item
    was encoded from (`plans`: {source: preset, frames, start and valid samples, the
    source audio's identity})."""

    path: Path
    next_id: int
    items: dict[str, dict]

    @classmethod
    def load(cls, path: Path) -> ItemIndex:
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            items = dict(data["items"])
            for entry in items.values():
                # an index of the mix alone (one `plan`) reads as the mix's plan
                if "plans" not in entry:
                    plan = entry.pop("plan", None)
                    entry["plans"] = {CORPUS: plan} if plan else {}
            return cls(path, int(data["next_id"]), items)
        return cls(path, 0, {})

    def save(self) -> None:
        write_json(self.path, {"next_id": self.next_id, "items": self.items})

    def of_track(self, track_id: str) -> dict[int, str]:
        """{window index: item name} of a track."""
        return {v["window"]: k for k, v in self.items.items() if v["track"] == track_id}

    def assign(self, track_id: str, window: int) -> str:
        """The item name of (track, window): its own if it has one, else a new one."""
        own = self.of_track(track_id).get(window)
        if own is not None:
            return own
        name = item_name(self.next_id)
        self.next_id += 1
        self.items[name] = {"track": track_id, "window": window, "plans": {}}
        return name

    def plan(self, name: str, source: str) -> dict | None:
        """What the source's item `name` was encoded from (None: not encoded yet)."""
        return self.items[name]["plans"].get(source)


def window_plan(window: Window, *, preset: str, source_id: str) -> dict[str, Any]:
    """What an item is encoded from: it is encoded again when any of this changes."""
    return {
        "preset": preset,
        "frames": window.n_frames,
        "start": window.start,
        "valid": window.valid,
        "source": source_id,
    }


# -- writing items ----------------------------------------------------------------------


def window_audio(stereo: np.ndarray, window: Window) -> np.ndarray:
    """(2, T * samples_per_frame) float32: the window's samples of a (n, 2) signal at the
    autoencoder's rate, silence after the end."""
    out = np.zeros((2, window.end - window.start), np.float32)
    part = stereo[window.start : window.start + window.valid]
    out[:, : part.shape[0]] = part.T
    return out


def write_item(
    corpus: Path,
    name: str,
    *,
    latents: np.ndarray | None,
    metadata: Mapping[str, Any],
    series: Mapping[str, np.ndarray],
    series_meta: Mapping[str, Any],
) -> None:
    """Write an item's sidecars (and latents, unless None: kept from an earlier run). The
    latents go last, each file under a temporary name and renamed: a reader that lists
    `.npy` files never sees an item without its `.json`."""
    write_json(corpus / f"{name}.json", dict(metadata), indent=None)
    write_npz(corpus / f"{name}{NPZ_SUFFIX}", dict(series), dict(series_meta))
    if latents is not None:
        save_npy(corpus / f"{name}.npy", latents.astype(np.float16))


def save_npy(path: Path, array: np.ndarray) -> None:
    """`np.save` under a temporary name, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, array)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_item(corpus: Path, ctrl: Path, name: str) -> None:
    """Delete an item's files from a corpus and its control array."""
    for path in (
        corpus / f"{name}.npy",
        corpus / f"{name}.json",
        corpus / f"{name}{NPZ_SUFFIX}",
        ctrl / f"{name}.npy",
    ):
        path.unlink(missing_ok=True)


def item_names(corpus: Path) -> list[str]:
    """The items of the corpus (their latents), sorted."""
    return sorted(
        p.stem for p in corpus.glob("*.npy") if p.name != SILENCE and not p.name.startswith(".")
    )


def write_corpus_files(
    corpus: Path,
    *,
    silence: np.ndarray,
    details: Mapping[str, Any],
) -> list[str]:
    """`filelist.txt` (the items), `silence.npy` and `details.json`; returns the items."""
    names = item_names(corpus)
    write_text(corpus / FILELIST, "".join(f"{n}.npy\n" for n in names))
    save_npy(corpus / SILENCE, silence.astype(np.float16))
    write_json(corpus / DETAILS, dict(details), indent=1)
    return names


# -- checks ---------------------------------------------------------------------------------


def check_corpus(corpus: Path) -> list[str]:
    """What is wrong with a corpus folder (empty when nothing is): every `.npy` has its
    `.json` and its series; latents are (C, T) with one C and T for all; `padding_mask` has
    T entries; every series has T rows; `filelist.txt` lists exactly the items; the silence
    is (1, C, T); nothing else is in the folder."""
    problems: list[str] = []
    if not corpus.is_dir():
        return [f"{corpus}: no corpus folder"]
    names = item_names(corpus)
    shapes: dict[tuple, list[str]] = {}
    allowed = set(CORPUS_FILES)
    for name in names:
        allowed |= {f"{name}.npy", f"{name}.json", f"{name}{NPZ_SUFFIX}"}
        try:
            latents = np.load(corpus / f"{name}.npy", mmap_mode="r")
        except Exception as exc:  # a broken file is a finding, not a crash of the check
            problems.append(f"{name}.npy: unreadable ({exc})")
            continue
        if latents.ndim != 2:
            problems.append(f"{name}.npy: shape {latents.shape}, not (channels, frames)")
            continue
        shapes.setdefault(tuple(latents.shape), []).append(name)
        t = latents.shape[1]
        meta_path = corpus / f"{name}.json"
        if not meta_path.is_file():
            problems.append(f"{name}.npy has no {name}.json")
        else:
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                mask = meta.get("padding_mask")
                if not isinstance(mask, list) or len(mask) != t:
                    problems.append(
                        f"{name}.json: padding_mask of length "
                        f"{len(mask) if isinstance(mask, list) else 'none'}, not {t}"
                    )
                elif 1 not in mask:
                    problems.append(f"{name}.json: padding_mask has no audio frame")
                for key in ("prompt", "seconds_total", "seconds_start"):
                    if key not in meta:
                        problems.append(f"{name}.json: no {key}")
            except ValueError as exc:
                problems.append(f"{name}.json: not JSON ({exc})")
        npz = corpus / f"{name}{NPZ_SUFFIX}"
        if not npz.is_file():
            problems.append(f"{name}.npy has no {name}{NPZ_SUFFIX}")
        else:
            arrays, _ = read_npz(npz)
            bad = sorted(k for k, v in arrays.items() if v.shape[0] != t)
            if bad:
                problems.append(f"{name}{NPZ_SUFFIX}: {', '.join(bad)} not {t} rows")
    if len(shapes) > 1:
        problems.append(
            "latents of different shapes: "
            + "; ".join(f"{s}: {len(v)} items (e.g. {v[0]})" for s, v in shapes.items())
        )
    for path in sorted(corpus.iterdir()):
        if path.name not in allowed:
            problems.append(f"{path.name}: not an item or a corpus file")
    listed = corpus / FILELIST
    if names and not listed.is_file():
        problems.append(f"no {FILELIST}")
    elif listed.is_file():
        entries = [line.strip() for line in listed.read_text().splitlines() if line.strip()]
        if entries != [f"{n}.npy" for n in names]:
            problems.append(f"{FILELIST} does not list exactly the items")
    silence = corpus / SILENCE
    if names and not silence.is_file():
        problems.append(f"no {SILENCE}")
    elif silence.is_file() and len(shapes) == 1:
        (shape,) = shapes
        got = np.load(silence, mmap_mode="r").shape
        if tuple(got) != (1, *shape):
            problems.append(f"{SILENCE}: shape {got}, not {(1, *shape)}")
    return problems


# -- controls -------------------------------------------------------------------------------


def _fields(arrays: Mapping[str, np.ndarray]) -> dict[str, int]:
    """{field: channels} of the :data:`CONTROL_FIELDS` in one item's pooled series."""
    return {
        f: 1 if arrays[f].ndim == 1 else int(arrays[f].shape[1])
        for f in CONTROL_FIELDS
        if f in arrays
    }


def sample_items(names: Iterable[str], k: int | None = None) -> list[str]:
    """The `k` (default :data:`CONTROL_SAMPLE_ITEMS`) items whose names have the smallest
    SHA-1: a uniform sample of the corpus that keeps its members while the corpus grows (a
    new item enters only by displacing one, with probability k / items) and loses only the
    items that leave it."""
    k = CONTROL_SAMPLE_ITEMS if k is None else k
    key = lambda n: hashlib.sha1(n.encode()).digest()  # noqa: E731
    return sorted(sorted(names, key=key)[:k])


def _column(arrays: Mapping[str, np.ndarray], field: str, b: int) -> np.ndarray:
    v = arrays[field]
    return (v if v.ndim == 1 else v[:, b]).astype(np.float64)


def _voiced(arrays: Mapping[str, np.ndarray], field: str) -> np.ndarray | None:
    """Where an f0 field is voiced (None for every other field)."""
    if not field.startswith("f0_"):
        return None
    return arrays[field.replace("_ts", "_voiced_ts")] > 0.5


def _statistics(
    channels: list[tuple[str, int]], items: list[tuple[dict, np.ndarray]]
) -> tuple[list[float], list[float]]:
    """(median, half the 16-84 % span) of each channel over the items' audio frames (f0:
    voiced frames), at most :data:`CONTROL_SAMPLE_FRAMES` frames a channel: each item gives
    an evenly spaced share of its frames."""
    per_item = max(1, CONTROL_SAMPLE_FRAMES // max(len(items), 1))
    medians, spans = [], []
    for field, b in channels:
        values = []
        for arrays, mask in items:
            keep = mask.copy() if mask.size else np.ones(len(arrays[field]), bool)
            voiced = _voiced(arrays, field)
            if voiced is not None:
                keep &= voiced
            column = _column(arrays, field, b)[keep]
            step = max(1, -(-column.size // per_item))
            values.append(column[::step])
        values = np.concatenate(values) if values else np.zeros(0)
        lo, med, hi = np.percentile(values, [16, 50, 84]) if values.size else (0.0, 0.0, 0.0)
        medians.append(float(med))
        spans.append(float(max((hi - lo) / 2, 1e-6)))
    return medians, spans


def _close(old: Mapping[str, Any], median: list[float], half_span: list[float]) -> bool:
    """Whether a new normalisation is within :data:`CONTROL_TOLERANCE` of `old`."""
    for m0, s0, m1, s1 in zip(old["median"], old["half_span"], median, half_span, strict=True):
        if abs(m1 - m0) > CONTROL_TOLERANCE * s0 or abs(s1 - s0) > CONTROL_TOLERANCE * s0:
            return False
    return True


def _label(field: str, b: int) -> str:
    return f"{field}[{b}]" if field == "hpcp_ts" else field


def write_controls(corpus: Path, ctrl: Path, *, written: Iterable[str] = ()) -> dict[str, Any]:
    """One control array per item in `ctrl` (C x T, float16) and the normalisation it used
    (`normalisation.json`: `channels`, `median`, `half_span`), returned.

    The channels are the :data:`CONTROL_FIELDS` every item has. Each is centred on its
    median and divided by half its 16-84 % span (f0: over voiced frames, its unvoiced
    frames 0), clipped to +-:data:`CONTROL_CLIP`. The cost is bounded, not the corpus's:

    - the median and span are those of the audio frames of a fixed-size sample of the
      items (:func:`sample_items`: the :data:`CONTROL_SAMPLE_ITEMS` items of smallest
      name hash, a uniform sample that is stable across runs; every item while the corpus
      is smaller), at most :data:`CONTROL_SAMPLE_FRAMES` frames a channel;
    - the control fields of each item are kept in `control_fields.json`, so only the
      items written by this run (`written`) and those without a control array are read;
    - the normalisation in use is kept while the sample's stays within
      :data:`CONTROL_TOLERANCE` of it (every median and half span moved by less than 5 %
      of the half span in use) and the channels are the same; then only the items of
      `written` and those without a control array get theirs. Otherwise the new one
      replaces it and every control array is written again (while the corpus is small, or
      when its music changes).

    So a run reads at most the sample and its own items, whatever the corpus's size."""
    names = item_names(corpus)
    present = set(names)
    written = set(written) & present
    index_path = ctrl / CONTROL_INDEX
    index = (
        json.loads(index_path.read_text(encoding="utf-8"))
        if index_path.is_file()
        else {"widths": {}, "items": {}}
    )
    widths: dict[str, int] = dict(index["widths"])
    fields_of: dict[str, list[str]] = {n: f for n, f in index["items"].items() if n in present}
    sample = set(sample_items(names))
    cache: dict[str, tuple[dict, np.ndarray] | None] = {}  # the sample's series only

    def load(name: str) -> tuple[dict, np.ndarray] | None:
        if name in cache:
            return cache[name]
        path = corpus / f"{name}{NPZ_SUFFIX}"
        item = None
        if path.is_file():
            arrays, meta = read_npz(path)
            item = (arrays, np.asarray(meta.get("padding_mask", []), bool))
        if name in sample:
            cache[name] = item
        return item

    for name in names:
        if name in written or name not in fields_of:
            item = load(name)
            if item is None:
                fields_of.pop(name, None)
                continue
            found = _fields(item[0])
            widths.update(found)
            fields_of[name] = list(found)
    common = set(CONTROL_FIELDS)
    for fields in fields_of.values():
        common &= set(fields)
    channels = [
        (f, b) for f in CONTROL_FIELDS if f in common and fields_of for b in range(widths[f])
    ]
    sampled = [item for item in (load(n) for n in sorted(sample)) if item is not None]
    median, half_span = _statistics(channels, sampled)
    labels = [_label(f, b) for f, b in channels]
    norm_path = ctrl / NORMALISATION
    old = json.loads(norm_path.read_text(encoding="utf-8")) if norm_path.is_file() else None
    keep = old is not None and old.get("channels") == labels and _close(old, median, half_span)
    if keep:
        median, half_span = list(old["median"]), list(old["half_span"])
        todo = [n for n in fields_of if n in written or not (ctrl / f"{n}.npy").is_file()]
    else:
        todo = list(fields_of)
    ctrl.mkdir(parents=True, exist_ok=True)
    for name in sorted(todo):
        item = load(name)
        if item is None:
            continue
        arrays = item[0]
        rows = []
        for (field, b), med, span in zip(channels, median, half_span, strict=True):
            x = (_column(arrays, field, b) - med) / span
            voiced = _voiced(arrays, field)
            if voiced is not None:
                x[~voiced] = 0.0
            rows.append(x)
        if rows:
            # a near-constant channel (a silent stem) has a tiny span: its rare outliers are
            # clipped rather than overflowing float16
            values = np.clip(np.nan_to_num(np.stack(rows)), -CONTROL_CLIP, CONTROL_CLIP)
            save_npy(ctrl / f"{name}.npy", values.astype(np.float16))
    for stale in ctrl.glob("*.npy"):
        if stale.stem not in fields_of:
            stale.unlink()
    write_json(
        index_path, {"widths": widths, "items": dict(sorted(fields_of.items()))}, indent=None
    )
    normalisation = {
        "channels": labels,
        "median": median,
        "half_span": half_span,
        "rule": "(x - median) / half_span, clipped to +-100; median = p50 and half_span = "
        "(p84 - p16) / 2 over the audio frames (f0: voiced frames; unvoiced frames are 0) of "
        f"a stable sample of at most {CONTROL_SAMPLE_ITEMS} items (the smallest SHA-1 of "
        f"their ids), kept until a new sample moves them by more than "
        f"{CONTROL_TOLERANCE:.0%} of the half span",
        "sample_items": len(sampled) if not keep else old.get("sample_items", len(sampled)),
        "corpus_items": len(fields_of) if not keep else old.get("corpus_items", len(fields_of)),
    }
    if not keep or not norm_path.is_file():
        write_json(norm_path, normalisation, indent=1)
    return {**normalisation, "rewritten": len(todo)}


# -- Stable Audio Tools' pre-encoded route ----------------------------------------------------


def sat_pre_encoded_config(corpus: Path, *, frames: int, dataset_id: str) -> dict[str, Any]:
    """stable-audio-tools' dataset config for the corpus (`dataset_type: pre_encoded`): the
    root-level keys its loader reads. `latent_crop_length` is the window length, so an
    item is used whole from frame 0 (its `seconds_start` stays true; `random_crop` is off
    for that reason too)."""
    return {
        "dataset_type": "pre_encoded",
        "datasets": [{"id": dataset_id, "path": str(corpus)}],
        "latent_crop_length": int(frames),
        "random_crop": False,
        "min_length_sec": None,
        "max_length_sec": None,
        "drop_last": False,
    }


def write_captions(path: Path, captions: Mapping[str, Mapping[str, str]]) -> None:
    write_json(path, {k: dict(v) for k, v in sorted(captions.items())}, indent=1)


#: the keys of an item's `.json` besides its conditioning values: where it lies and what
#: it is (no family's results); those of them that say only where it lies are left out of
#: the card's statistics
ITEM_KEYS = (
    "prompt", "seconds_start", "seconds_total", "padding_mask", "track_id", "source", "path",
    "relpath", "timestamps", "start_sample", "end_sample", "sample_rate", "position",
    "window", "window_seconds", "track_seconds",
)  # fmt: skip
PLACE_KEYS = (
    "padding_mask", "timestamps", "start_sample", "end_sample", "sample_rate", "window",
)  # fmt: skip


def corpus_items(corpus: Path) -> dict[str, dict[str, Any]]:
    """{item: its `.json`} of every item of the corpus (an unreadable sidecar is left out:
    the corpus check names it)."""
    out = {}
    for name in item_names(corpus):
        try:
            out[name] = json.loads((corpus / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return out


def corpus_summary(items: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Items, tracks and hours of audio of :func:`corpus_items`: `hours`, the items' audio
    frames (overlaps counted in each window), and `track_hours`, the tracks' own audio."""
    tracks = {str(meta.get("track_id")): meta for meta in items.values()}
    seconds = sum(float(meta.get("window_seconds", 0.0)) for meta in items.values())
    track_seconds = sum(float(meta.get("track_seconds", 0.0)) for meta in tracks.values())
    return {
        "items": len(items),
        "tracks": len(tracks),
        "hours": round(seconds / 3600, 4),
        "track_hours": round(track_seconds / 3600, 4),
    }


def write_corpus_card(
    corpus: Path,
    *,
    cfg,
    details: Mapping[str, Any],
    controls: Mapping[str, Any] | None,
    items: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """The corpus's card (`README.md` in the corpus folder, :func:`mir.dataset.card.write_card`):
    counts and hours, the statistics of the items' values, the layout, the series and
    controls, the configuration (`cfg`: the :class:`~mir.config.MasterConfig`; `details`:
    the corpus's `details.json`), and the model and licence behind each key: the
    autoencoder for the latents (and the separation model for a stem's), the families of
    the conditioning values, the prompt and each series."""
    items = corpus_items(corpus) if items is None else items
    source = str(details.get("source", corpus.name))
    fields = list(details.get("fields", []))
    latent_families = ("latents",) if source == CORPUS else ("latents", "stems")
    files = {"NNNNNN.npy": latent_families, "silence.npy": ("latents",)}
    keys = {k for meta in items.values() for k in meta}
    item_keys = {"prompt": ("captions",)}
    item_keys.update({k: () for k in ITEM_KEYS if k in keys and k != "prompt"})
    item_keys.update({k: value_families(k) for k in sorted(keys - set(ITEM_KEYS))})
    series = {}
    for field in sorted(fields):
        family = series_family(field)
        series[field] = (family,) if family else ()
    counts = corpus_summary(items)
    readers = [
        f"A pre-encoded corpus of the **{source}** for {details.get('preset')} "
        f"({details.get('encoder')}: {details.get('latent_channels')} channels, "
        f"{details.get('frames')} frames of {details.get('samples_per_frame')} samples at "
        f"{details.get('sample_rate')} Hz a window).",
        "",
        "Readers: Stable Audio 3 (`--encoded_dir` this folder) and stable-audio-tools "
        f"(`../{source}_{SAT_CONFIG}`, dataset_type pre_encoded).",
    ]
    layout = [
        "- `NNNNNN.npy`: latents (channels, T), float16; `NNNNNN.json`: prompt, "
        "seconds_start, seconds_total, padding_mask (T), the window's place and its "
        "conditioning values; `NNNNNN.TIMESERIES.npz`: every series pooled to T",
        "- `filelist.txt` (the items), `silence.npy` (1, channels, T), `details.json`",
        f"- beside it: `../{source}_ctrl/` (control arrays and their normalisation), "
        f"`../{CAPTIONS}` (caption tiers by item id), `../{ITEMS}` (ids and what each item "
        "was encoded from); ids are shared by the sources' corpora",
    ]
    sections = [
        ("Layout", layout),
        (
            "Series (`NNNNNN.TIMESERIES.npz`, T rows each)",
            [", ".join(f"`{f}`" for f in sorted(fields)) or "(none)"],
        ),
    ]
    if controls:
        sections.append(
            (
                f"Controls (`../{source}_ctrl/`)",
                [
                    f"{len(controls['channels'])} channels: "
                    + ", ".join(f"`{c}`" for c in controls["channels"]),
                    "",
                    f"Normalisation: {controls.get('rule', '')}.",
                ],
            )
        )
    values = (
        (name, key, value)
        for name, meta in items.items()
        for key, value in meta.items()
        if key not in PLACE_KEYS
    )
    return write_card(
        corpus,
        title=f"Latent corpus `{corpus.parent.name}/{corpus.name}`",
        about=readers,
        counts={
            **counts,
            "hours": f"{counts['hours']} (the audio frames of the items; they overlap: the "
            "next window starts at the last downbeat before the previous end, and the last "
            "one ends with its track)",
            "track_hours": f"{counts['track_hours']} (the tracks' own audio)",
        },
        models=[
            ("Files", key_models(files, cfg)),
            ("Keys of `NNNNNN.json`", key_models(item_keys, cfg)),
            (
                "Series of `NNNNNN.TIMESERIES.npz` (and the controls made of them)",
                key_models(series, cfg),
            ),
        ],
        configuration={"latents": cfg.latents.model_dump(mode="json"), "details": dict(details)},
        values=values,
        sections=sections,
    )

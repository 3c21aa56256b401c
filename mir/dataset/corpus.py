"""The pre-encoded latent corpus: one flat folder that Stable Audio 3's and Stable Audio
Tools' pre-encoded readers take as it is, and what lies beside it.

```
<latents>/<preset>/
  mix/                      the corpus (nothing else is in it)
    NNNNNN.npy              latents, (channels, T), float16
    NNNNNN.json             prompt, seconds_start, seconds_total, padding_mask (T), the
                            window's place (track, source path, samples, position) and its
                            conditioning values
    NNNNNN.TIMESERIES.npz   every series of the track pooled to the T frames
    filelist.txt            the item latents, one per line (both readers take it as the list)
    silence.npy             the latents of T frames of silence, (1, channels, T)
    details.json            encoder, rates, dtype, fields
    README.md               the card: counts, hours, configuration, models and licences
  mix_ctrl/                 NNNNNN.npy control arrays (C x T, float16) and
                            normalisation.json (channels, median, half the 16-84 % span)
  captions.json             {item id: {template, short, full}}
  items.json                the id of each (track, window) and what it was encoded from
  sat_pre_encoded.json      the dataset config of stable-audio-tools' pre_encoded type
```

Ids are six digits, given once: a (track, window) keeps its id across runs; an item whose
track or window plan changed is encoded again under the same id; a window that no longer
exists takes its files with it, and its id is not given again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mir.dataset.sat_export import write_json, write_text
from mir.dataset.timeseries import NPZ_SUFFIX, read_npz, write_npz
from mir.dataset.windows import Window

CORPUS = "mix"
ID_DIGITS = 6
FILELIST = "filelist.txt"
SILENCE = "silence.npy"
DETAILS = "details.json"
CARD = "README.md"
ITEMS = "items.json"
CAPTIONS = "captions.json"
SAT_CONFIG = "sat_pre_encoded.json"
NORMALISATION = "normalisation.json"
#: the files a corpus folder may hold besides its items
CORPUS_FILES = (FILELIST, SILENCE, DETAILS, CARD)
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
    """The corpus folder and what lies beside it, under `<latents>/<preset>/`."""
    return {
        "corpus": root / corpus,
        "ctrl": root / f"{corpus}_ctrl",
        "captions": root / CAPTIONS,
        "items": root / ITEMS,
        "sat_config": root / SAT_CONFIG,
    }


def item_name(item_id: int) -> str:
    return f"{item_id:0{ID_DIGITS}d}"


# -- the ids of the items ---------------------------------------------------------------


@dataclass
class ItemIndex:
    """`items.json`: the id of each (track, window index), and what it was encoded from
    (`plan`: preset, frames, start and valid samples, the source's identity)."""

    path: Path
    next_id: int
    items: dict[str, dict]

    @classmethod
    def load(cls, path: Path) -> ItemIndex:
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, int(data["next_id"]), dict(data["items"]))
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
        self.items[name] = {"track": track_id, "window": window, "plan": None}
        return name


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


def _channels(arrays: Mapping[str, np.ndarray]) -> list[tuple[str, int]]:
    """(field, bin) of each control channel of one item's pooled series."""
    out = []
    for field in CONTROL_FIELDS:
        if field in arrays:
            width = 1 if arrays[field].ndim == 1 else arrays[field].shape[1]
            out += [(field, b) for b in range(width)]
    return out


def write_controls(corpus: Path, ctrl: Path) -> dict[str, Any]:
    """One control array per item in `ctrl` (C x T, float16): the :data:`CONTROL_FIELDS`
    every item has, each channel centred on its median over the corpus's audio frames and
    divided by half its 16-84 % span (f0 over voiced frames only, unvoiced frames 0).
    Writes and returns the normalisation (`channels`, `median`, `half_span`)."""
    names = item_names(corpus)
    series = {}
    for name in names:
        path = corpus / f"{name}{NPZ_SUFFIX}"
        if path.is_file():
            arrays, meta = read_npz(path)
            series[name] = (arrays, np.asarray(meta.get("padding_mask", []), bool))
    common = None
    for arrays, _ in series.values():
        chans = _channels(arrays)
        common = chans if common is None else [c for c in common if c in chans]
    common = common or []

    def column(arrays, field, b):
        v = arrays[field]
        return (v if v.ndim == 1 else v[:, b]).astype(np.float64)

    medians, spans = [], []
    for field, b in common:
        values = []
        for arrays, mask in series.values():
            keep = mask.copy() if mask.size else np.ones(len(arrays[field]), bool)
            if field.startswith("f0_"):
                keep &= arrays[field.replace("_ts", "_voiced_ts")] > 0.5
            values.append(column(arrays, field, b)[keep])
        values = np.concatenate(values) if values else np.zeros(0)
        if values.size:
            lo, med, hi = np.percentile(values, [16, 50, 84])
        else:
            lo = med = hi = 0.0
        medians.append(float(med))
        spans.append(float(max((hi - lo) / 2, 1e-6)))
    ctrl.mkdir(parents=True, exist_ok=True)
    for name, (arrays, _mask) in series.items():
        rows = []
        for (field, b), med, span in zip(common, medians, spans, strict=True):
            x = (column(arrays, field, b) - med) / span
            if field.startswith("f0_"):
                x[arrays[field.replace("_ts", "_voiced_ts")] <= 0.5] = 0.0
            rows.append(x)
        if rows:
            # a near-constant channel (a silent stem) has a tiny span: its rare outliers are
            # clipped rather than overflowing float16
            values = np.clip(np.nan_to_num(np.stack(rows)), -CONTROL_CLIP, CONTROL_CLIP)
            save_npy(ctrl / f"{name}.npy", values.astype(np.float16))
    for stale in ctrl.glob("*.npy"):
        if stale.stem not in series:
            stale.unlink()
    normalisation = {
        "channels": [f"{f}[{b}]" if f == "hpcp_ts" else f for f, b in common],
        "median": medians,
        "half_span": spans,
        "rule": "(x - median) / half_span, clipped to +-100; half_span = (p84 - p16) / 2 "
        "over the corpus's audio frames (f0: voiced frames; unvoiced frames are 0)",
    }
    write_json(ctrl / NORMALISATION, normalisation, indent=1)
    return normalisation


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


def corpus_summary(corpus: Path) -> dict[str, Any]:
    """Items, tracks, hours of audio in the items (their audio frames), from the sidecars."""
    tracks: set[str] = set()
    seconds = 0.0
    names = item_names(corpus)
    for name in names:
        try:
            meta = json.loads((corpus / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        tracks.add(str(meta.get("track_id")))
        seconds += float(meta.get("window_seconds", 0.0))
    return {"items": len(names), "tracks": len(tracks), "hours": round(seconds / 3600, 4)}


def write_card(
    corpus: Path,
    *,
    summary: Mapping[str, Any],
    configuration: Mapping[str, Any],
    models: Iterable[Mapping[str, str]],
    fields: Iterable[str],
    controls: Mapping[str, Any] | None,
    plots: Iterable[str] = (),
) -> Path:
    """The corpus's card (README.md in the corpus folder): what is in it, how it was made,
    and which model, under which licence, produced each key."""
    lines = [
        f"# Latent corpus `{corpus.parent.name}/{corpus.name}`",
        "",
        f"- items: {summary['items']} windows of {summary.get('tracks', 0)} tracks",
        f"- audio: {summary['hours']} hours (the audio frames of the items; windows overlap "
        "by less than a bar)",
        "- readers: Stable Audio 3 (`--encoded_dir` this folder) and stable-audio-tools "
        "(`../sat_pre_encoded.json`, dataset_type pre_encoded)",
        "",
        "## Configuration",
        "",
        "```json",
        json.dumps(dict(configuration), indent=1),
        "```",
        "",
        "## Models and licences",
        "",
        "| key(s) | produced by | licence |",
        "|---|---|---|",
        *(f"| {m['keys']} | {m['model']} | {m['licence']} |" for m in models),
        "",
        "## Series (`NNNNNN.TIMESERIES.npz`, T rows each)",
        "",
        ", ".join(f"`{f}`" for f in sorted(fields)) or "(none)",
        "",
    ]
    if controls:
        lines += [
            "## Controls (`../" + corpus.name + "_ctrl/`)",
            "",
            f"{len(controls['channels'])} channels: "
            + ", ".join(f"`{c}`" for c in controls["channels"]),
            "",
        ]
    plots = list(plots)
    if plots:
        lines += ["## Statistics", "", *(f"![{Path(p).stem}]({p})" for p in plots), ""]
    path = corpus / CARD
    write_text(path, "\n".join(lines))
    return path
